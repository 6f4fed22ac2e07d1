package dev.postern.broker.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import javax.crypto.SecretKey;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store contract and the embedded file's own guarantees. */
class EmbeddedSecretStoreTests extends SecretStoreContractTests {

    @TempDir
    Path folder;

    private SecretKey key;

    @Override
    protected SecretStore createStore() {
        key = MasterKeys.fromKeyFile(folder.resolve("master.key"));
        return new EmbeddedSecretStore(folder.resolve("store.bin"), key);
    }

    @AfterEach
    void closeStore() {
        ((EmbeddedSecretStore) store).close();
    }

    @Test
    void reopenThenEveryWriteIsThere() {
        store.write(SecretPath.of(StoreCollection.APPS, "app_r"), new SecretDocument(Map.of("n", 1), Map.of("s", "v")),
                SecretStore.NEW);
        ((EmbeddedSecretStore) store).close();

        try (EmbeddedSecretStore reopened = new EmbeddedSecretStore(folder.resolve("store.bin"), key)) {
            StoredDocument read = reopened.read(SecretPath.of(StoreCollection.APPS, "app_r")).orElseThrow();
            assertThat(read.version()).isEqualTo(1);
            assertThat(read.document().secret("s")).isEqualTo("v");
        }
    }

    @Test
    void fileHoldsNoPlaintextAndFilesAreOwnerOnly() throws Exception {
        store.write(SecretPath.of(StoreCollection.APPS, "app_p"),
                new SecretDocument(Map.of("name", "visible-name"), Map.of("client_secret", "plain-secret-value-42")),
                SecretStore.NEW);

        String raw = new String(Files.readAllBytes(folder.resolve("store.bin")), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(raw).doesNotContain("plain-secret-value-42").doesNotContain("visible-name");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.resolve("master.key"))))
            .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.resolve("store.bin"))))
            .isEqualTo("rw-------");
    }

    @Test
    void openWithAnotherKeyThenClearError() {
        store.write(SecretPath.of(StoreCollection.APPS, "app_k"), SecretDocument.of(Map.of()), SecretStore.NEW);
        ((EmbeddedSecretStore) store).close();

        SecretKey other = MasterKeys.fromKeyFile(folder.resolve("other.key"));
        assertThatThrownBy(() -> new EmbeddedSecretStore(folder.resolve("store.bin"), other))
            .isInstanceOf(SecretStoreException.class)
            .hasMessageContaining("master key is not the one");
    }

    @Test
    void openWhileAnotherHoldsTheFileThenRefused() {
        assertThatThrownBy(() -> new EmbeddedSecretStore(folder.resolve("store.bin"), key))
            .isInstanceOf(SecretStoreException.class)
            .hasMessageContaining("in use by another process");
    }

    @Test
    void masterKeyWhenNotThirtyTwoBytesThenRefused() {
        assertThatThrownBy(() -> MasterKeys.fromBase64("c2hvcnQ=")).isInstanceOf(SecretStoreException.class)
            .hasMessageContaining("32 bytes");
        assertThatThrownBy(() -> MasterKeys.fromBase64("not base64 !!")).isInstanceOf(SecretStoreException.class);
    }
}
