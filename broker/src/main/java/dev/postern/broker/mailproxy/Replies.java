package dev.postern.broker.mailproxy;

import org.jspecify.annotations.Nullable;

/** Text from an upstream server or an exception, made safe to put on one reply line to a client. */
final class Replies {

    private static final int MAX = 200;

    private Replies() {
    }

    /** Printable ASCII only, at most 200 characters; {@code "no answer"} for nothing. */
    static String plain(@Nullable String text) {
        if (text == null || text.isBlank()) {
            return "no answer";
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < MAX; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : ' ');
        }
        return out.toString().strip();
    }
}
