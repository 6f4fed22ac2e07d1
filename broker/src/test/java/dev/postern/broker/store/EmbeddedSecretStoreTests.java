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

    /**
     * The embedded store is one AES-GCM message: its JSON (metadata, secrets, versions) cannot be
     * read or edited without the master key, and any changed byte fails the tag. So an edit, a
     * document moved inside the file or a value spliced from another file is refused at open; a
     * per-document MAC or per-field AAD under the same master key would add nothing (whoever can
     * make one can rewrite the whole file).
     */
    @Test
    void fileWhenAnyByteIsChangedThenRefusedAtOpen() throws Exception {
        store.write(SecretPath.of(StoreCollection.CLIENTS, "cli_e"),
                SecretDocument.of(Map.of("name", "reporting", "role", "client")), SecretStore.NEW);
        ((EmbeddedSecretStore) store).close();
        Path file = folder.resolve("store.bin");
        byte[] original = Files.readAllBytes(file);

        for (int position : new int[] { 12, 20, original.length / 2, original.length - 1 }) {
            byte[] changed = original.clone();
            changed[position] ^= 0x01;
            Files.write(file, changed);
            assertThatThrownBy(() -> new EmbeddedSecretStore(file, key).close()).as("byte %d changed", position)
                .isInstanceOf(SecretStoreException.class)
                .hasMessageContaining("altered");
        }

        Files.write(file, original);
        try (EmbeddedSecretStore reopened = new EmbeddedSecretStore(file, key)) {
            assertThat(reopened.read(SecretPath.of(StoreCollection.CLIENTS, "cli_e")).orElseThrow().document().data())
                .containsEntry("role", "client");
        }
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
