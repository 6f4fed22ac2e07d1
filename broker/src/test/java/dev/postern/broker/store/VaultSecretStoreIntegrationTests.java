package dev.postern.broker.store;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.testing.TestVault;
import dev.postern.broker.testing.VaultExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store contract and Vault's own behaviour against a real Vault-API server (OpenBao). */
@ExtendWith(VaultExtension.class)
class VaultSecretStoreIntegrationTests extends SecretStoreContractTests {

    private final TestVault vault;

    private String prefix;

    VaultSecretStoreIntegrationTests(TestVault vault) {
        this.vault = vault;
    }

    @Override
    protected SecretStore createStore() {
        prefix = "postern-test-" + UUID.randomUUID() + "/";
        return VaultStores.store(vault.address(), vault.rootToken(), prefix);
    }

    @Test
    void secretFieldsAreEncryptedUnderADataKeyThatTransitWrapped() {
        store.write(SecretPath.of(StoreCollection.APPS, "app_sealed"),
                new SecretDocument(Map.of("name", "x"), Map.of("client_secret", "plain-secret-value-42")),
                SecretStore.NEW);

        HttpResponse<String> raw = vault.api("GET", "secret/data/" + prefix + "apps/app_sealed", null);

        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.body()).doesNotContain("plain-secret-value-42")
            .doesNotContain(java.util.Base64.getEncoder().encodeToString("plain-secret-value-42".getBytes(StandardCharsets.UTF_8)));
        var stored = JsonMapper.builder().build().readTree(raw.body()).path("data").path("data");
        assertThat(stored.path("format").asString()).isEqualTo("3");
        assertThat(stored.path("key").asString()).as("the data key, wrapped by Transit").startsWith("vault:v1:");
        assertThat(stored.path("secrets").path("client_secret").asString()).isNotBlank().doesNotStartWith("vault:");
    }

    @Test
    void prepareWhenTransitKeyMissingThenCreatesIt() {
        String key = "postern-" + UUID.randomUUID();
        new VaultSecretStore(VaultStores.template(vault.address(), vault.rootToken()), "secret", "p/", "transit", key)
            .prepare();

        HttpResponse<String> created = vault.api("GET", "transit/keys/" + key + "-v2", null);
        assertThat(created.statusCode()).isEqualTo(200);
        assertThat(created.body()).contains("\"derived\":true");
    }

    @Test
    void prepareWhenTransitNotMountedThenClearError() {
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), vault.rootToken()),
                "secret", "p/", "no-such-transit", "postern");

        assertThatThrownBy(store::prepare).isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("no Transit secrets engine at 'no-such-transit/'");
    }

    @Test
    void tokenWithoutRightsThenUnavailableNamingThePolicy() {
        HttpResponse<String> created = vault.api("POST", "auth/token/create",
                "{\"policies\":[\"default\"],\"ttl\":\"5m\"}");
        String weakToken = JsonMapper.builder().build().readTree(created.body()).path("auth").path("client_token")
            .asString();
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), weakToken), "secret",
                prefix, "transit", "postern");

        assertThatThrownBy(() -> store.read(SecretPath.of(StoreCollection.APPS, "app_x")))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("denied")
            .hasMessageContaining("policy")
            .hasMessageNotContaining(weakToken);
    }

    @Test
    void unreachableVaultThenUnavailable() {
        String address = "http://127.0.0.1:" + TestVault.freePort();
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(address, "any-token"), "secret", "p/",
                "transit", "postern");

        assertThatThrownBy(() -> store.read(SecretPath.of(StoreCollection.APPS, "app_x")))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("unreachable");
        assertThatThrownBy(store::checkHealth).isInstanceOf(StoreUnavailableException.class);
    }

    @Test
    void answerWhoseBodyStallsPastTheReadTimeoutThenUnavailable() throws Exception {
        // Headers at once, then half a body and nothing for longer than the read timeout: Spring's JDK client
        // closes the body stream, and the read fails with "closed" inside a RestClientException.
        HttpServer stalling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        CountDownLatch testDone = new CountDownLatch(1);
        stalling.createContext("/", exchange -> {
            byte[] body = "{\"data\":{\"data\":{}}}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body, 0, 5);
            exchange.getResponseBody().flush();
            try {
                testDone.await(10, TimeUnit.SECONDS);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        stalling.start();
        try {
            VaultSecretStore store = new VaultSecretStore(VaultStores.template("http://127.0.0.1:"
                    + stalling.getAddress().getPort(), "any-token", Duration.ofSeconds(1)), "secret", "p/", "transit", "postern");

            assertThatThrownBy(() -> store.read(SecretPath.of(StoreCollection.APPS, "app_x")))
                .isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("too slow");
        }
        finally {
            testDone.countDown();
            stalling.stop(0);
        }
    }

    @Test
    void sealedVaultThenUnavailableAndHealthSaysSealed() {
        try (TestVault own = TestVault.dedicated()) {
            VaultSecretStore store = VaultStores.store(own.address(), own.rootToken(), "p/");
            store.write(SecretPath.of(StoreCollection.APPS, "app_s"), SecretDocument.of(Map.of("n", 1)),
                    SecretStore.NEW);

            assertThat(own.api("PUT", "sys/seal", null).statusCode()).isEqualTo(204);

            assertThatThrownBy(() -> store.read(SecretPath.of(StoreCollection.APPS, "app_s")))
                .isInstanceOf(StoreUnavailableException.class);
            assertThatThrownBy(store::checkHealth).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("sealed");
        }
    }
}
