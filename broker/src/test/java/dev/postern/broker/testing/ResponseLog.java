package dev.postern.broker.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Every response body the API tests received, for the test that searches them for secrets. */
public final class ResponseLog {

    private static final List<String> BODIES = new CopyOnWriteArrayList<>();

    private ResponseLog() {
    }

    static void record(String body) {
        BODIES.add(body);
    }

    public static List<String> bodies() {
        return List.copyOf(BODIES);
    }
}
