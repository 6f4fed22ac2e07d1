package dev.postern.broker.store;

import java.nio.file.Path;
import java.util.Map;

/**
 * A child process for {@link EmbeddedSecretStoreCrashTests}: increments a counter in the
 * embedded store forever and prints {@code ack N} after each write returned.
 */
public final class EmbeddedStoreWriter {

    private EmbeddedStoreWriter() {
    }

    public static void main(String[] args) {
        EmbeddedSecretStore store = new EmbeddedSecretStore(Path.of(args[0]), MasterKeys.fromBase64(args[1]));
        SecretPath counter = SecretPath.of(StoreCollection.SYSTEM, "counter");
        while (true) {
            StoredDocument current = store.read(counter).orElse(null);
            int value = current == null ? 0 : ((Number) current.document().data().get("value")).intValue();
            long version = current == null ? SecretStore.NEW : current.version();
            store.write(counter, new SecretDocument(Map.of("value", value + 1), Map.of("token", "rt-" + (value + 1))),
                    version);
            System.out.println("ack " + (value + 1));
            System.out.flush();
        }
    }
}
