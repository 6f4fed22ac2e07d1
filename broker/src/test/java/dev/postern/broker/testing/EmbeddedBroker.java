package dev.postern.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.springframework.test.context.DynamicPropertyRegistry;

/** A broker on the embedded store in a fresh folder, as `scripts/run` starts it, for tests that need no Vault. */
public final class EmbeddedBroker {

    private EmbeddedBroker() {
    }

    /** A new empty data folder. */
    public static Path dataFolder(String name) {
        try {
            return Files.createTempDirectory("postern-" + name + "-");
        }
        catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The store and bootstrap settings for a broker keeping its data in {@code data}. */
    public static void properties(DynamicPropertyRegistry registry, Path data, String bootstrapAdminKey) {
        registry.add("postern.store.type", () -> "embedded");
        registry.add("postern.store.embedded.file", () -> data.resolve("store.bin").toString());
        registry.add("postern.store.embedded.key-file", () -> data.resolve("master.key").toString());
        registry.add("postern.access.bootstrap-key-file", () -> data.resolve("bootstrap-admin-key").toString());
        registry.add("postern.access.bootstrap-admin-key", () -> bootstrapAdminKey);
    }
}
