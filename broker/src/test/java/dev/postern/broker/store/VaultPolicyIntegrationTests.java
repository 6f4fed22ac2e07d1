package dev.postern.broker.store;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.testing.TestVault;
import dev.postern.broker.testing.VaultExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The policy Postern's documentation hands to operators ({@code docs/vault/postern-policy.hcl})
 * loaded unchanged into a real OpenBao: a token with that policy alone (not even {@code default})
 * runs every store operation, and is refused everywhere else.
 */
@ExtendWith(VaultExtension.class)
class VaultPolicyIntegrationTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final TestVault vault;

    /** Inside the policy's {@code secret/data/postern/*}, apart from other tests' documents. */
    private final String prefix = "postern/policy-tests-" + UUID.randomUUID() + "/";

    private String policyToken;

    VaultPolicyIntegrationTests(TestVault vault) {
        this.vault = vault;
    }

    @BeforeEach
    void tokenWithOnlyThePosternPolicy() {
        // The policy does not allow creating the Transit key: an operator creates it, as vault.md says.
        if (vault.api("GET", "transit/keys/postern-v2", null).statusCode() == 404) {
            expectSuccess(vault.api("POST", "transit/keys/postern-v2", "{\"type\":\"aes256-gcm96\",\"derived\":true}"),
                    "create the key");
        }
        policyToken = tokenWithPolicy(vault, "postern-docs-policy");
    }

    @Test
    void storeOperationsWhenTokenHasOnlyThePolicyThenAllWork() {
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), policyToken), "secret",
                prefix, "transit", "postern");
        store.prepare();
        assertThat(store.checkHealth()).containsEntry("backend", "vault");

        SecretPath path = SecretPath.of(StoreCollection.APPS, "app_policy");
        long first = store.write(path,
                new SecretDocument(Map.of("name", "Contoso mail"), Map.of("client_secret", "placeholder-secret-1")),
                SecretStore.NEW);
        StoredDocument read = store.read(path).orElseThrow();
        assertThat(read.version()).isEqualTo(first);
        assertThat(read.document().data()).containsEntry("name", "Contoso mail");
        assertThat(read.document().secret("client_secret")).isEqualTo("placeholder-secret-1");

        long second = store.write(path,
                new SecretDocument(Map.of("name", "Contoso mail"), Map.of("client_secret", "placeholder-secret-2")),
                first);
        assertThat(second).isGreaterThan(first);
        assertThatThrownBy(() -> store.write(path, SecretDocument.of(Map.of("name", "stale")), first))
            .isInstanceOf(VersionConflictException.class);
        assertThat(store.read(path).orElseThrow().document().secret("client_secret")).isEqualTo("placeholder-secret-2");

        store.write(SecretPath.of(StoreCollection.APPS, "app_other"), SecretDocument.of(Map.of("n", 1)), SecretStore.NEW);
        assertThat(store.list(SecretPath.of(StoreCollection.APPS))).isEqualTo(List.of("app_other", "app_policy"));
        assertThat(store.list(SecretPath.of(StoreCollection.ACCOUNTS))).isEmpty();

        store.delete(path);
        store.delete(SecretPath.of(StoreCollection.APPS, "app_other"));
        assertThat(store.read(path)).isEmpty();
        assertThat(store.list(SecretPath.of(StoreCollection.APPS))).isEmpty();
    }

    @Test
    void secretFieldWhenWrittenWithPolicyTokenThenCiphertextInKv() {
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), policyToken), "secret",
                prefix, "transit", "postern");
        store.write(SecretPath.of(StoreCollection.ACCOUNTS, "acc_sealed"),
                new SecretDocument(Map.of("mailbox", "user@example.com"), Map.of("refresh_token", "placeholder-rt-42")),
                SecretStore.NEW);

        HttpResponse<String> raw = vault.api("GET", "secret/data/" + prefix + "accounts/acc_sealed", null);

        assertThat(raw.body()).contains("vault:v1:").doesNotContain("placeholder-rt-42");
        assertThat(store.read(SecretPath.of(StoreCollection.ACCOUNTS, "acc_sealed")).orElseThrow()
            .document()
            .secret("refresh_token")).isEqualTo("placeholder-rt-42");
    }

    @Test
    void prefixOutsidePosternWhenUsedThenDeniedNamingThePolicy() {
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), policyToken), "secret",
                "other/", "transit", "postern");
        SecretPath path = SecretPath.of(StoreCollection.APPS, "app_x");

        assertThatThrownBy(() -> store.write(path, SecretDocument.of(Map.of("n", 1)), SecretStore.NEW))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("policy")
            .hasMessageNotContaining(policyToken);
        assertThatThrownBy(() -> store.read(path)).isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("policy");
        assertThatThrownBy(() -> store.list(SecretPath.of(StoreCollection.APPS)))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("policy");
    }

    @Test
    void transitKeyOutsidePolicyWhenPreparedThenDenied() {
        VaultSecretStore store = new VaultSecretStore(VaultStores.template(vault.address(), policyToken), "secret",
                prefix, "transit", "not-postern");

        assertThatThrownBy(store::prepare).isInstanceOf(StoreUnavailableException.class).hasMessageContaining("policy");
        assertThat(vault.api("GET", "transit/keys/not-postern", null).statusCode()).isEqualTo(404);
    }

    @Test
    void missingTransitKeyWhenTokenHasOnlyThePolicyThenNotCreatedAndSaysHow() {
        try (TestVault own = TestVault.dedicated()) {
            String token = tokenWithPolicy(own, "postern");
            VaultSecretStore store = new VaultSecretStore(VaultStores.template(own.address(), token), "secret",
                    "postern/", "transit", "postern");

            assertThatThrownBy(store::prepare).isInstanceOf(StoreUnavailableException.class)
                .hasMessageContaining("may not create it")
                .hasMessageContaining("bao write transit/keys/postern-v2 derived=true");
            assertThat(own.api("GET", "transit/keys/postern-v2", null).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void ownWritesAreReadBackWithoutTransitWhileAnotherProcessNeedsTheDecryptRight() {
        String policy = documentedPolicy();
        String decryptRule = "path \"transit/decrypt/postern-v2\" {\n  capabilities = [\"update\"]\n}\n";
        assertThat(policy).contains(decryptRule);
        String noDecrypt = tokenWithPolicy(vault, "postern-without-decrypt", policy.replace(decryptRule, ""));
        SecretPath path = SecretPath.of(StoreCollection.ACCOUNTS, "acc_cached");
        VaultSecretStore writer = new VaultSecretStore(VaultStores.template(vault.address(), noDecrypt), "secret",
                prefix, "transit", "postern");
        writer.write(path, new SecretDocument(Map.of("mailbox", "user@example.com"),
                Map.of("refresh_token", "placeholder-rt-7")), SecretStore.NEW);

        // The writer holds its own data key: no Transit decrypt call, so no 403.
        assertThat(writer.read(path).orElseThrow().document().secret("refresh_token")).isEqualTo("placeholder-rt-7");
        // A store that did not write it (another replica, or this one after a restart) must unwrap the key.
        VaultSecretStore restarted = new VaultSecretStore(VaultStores.template(vault.address(), noDecrypt), "secret",
                prefix, "transit", "postern");
        assertThatThrownBy(() -> restarted.read(path)).isInstanceOf(StoreUnavailableException.class)
            .hasMessageContaining("policy");
        VaultSecretStore withDecrypt = new VaultSecretStore(VaultStores.template(vault.address(), policyToken),
                "secret", prefix, "transit", "postern");
        assertThat(withDecrypt.read(path).orElseThrow().document().secret("refresh_token")).isEqualTo("placeholder-rt-7");
    }

    /** Loads the documented policy file as {@code name} and returns a token that has only it. */
    private static String tokenWithPolicy(TestVault target, String name) {
        return tokenWithPolicy(target, name, documentedPolicy());
    }

    private static String tokenWithPolicy(TestVault target, String name, String policy) {
        expectSuccess(target.api("PUT", "sys/policies/acl/" + name,
                JSON.writeValueAsString(Map.of("policy", policy))), "write the policy");
        HttpResponse<String> created = target.api("POST", "auth/token/create",
                JSON.writeValueAsString(Map.of("policies", List.of(name), "no_default_policy", true, "ttl", "10m")));
        expectSuccess(created, "create a token");
        String token = JSON.readTree(created.body()).path("auth").path("client_token").asString();
        HttpResponse<String> self = target.api("GET", "auth/token/lookup-self", null, token);
        assertThat(self.statusCode()).as("a token without the default policy cannot even look itself up")
            .isEqualTo(403);
        return token;
    }

    static String documentedPolicy() {
        for (Path candidate : List.of(Path.of("..", "docs", "vault", "postern-policy.hcl"),
                Path.of("docs", "vault", "postern-policy.hcl"))) {
            if (Files.isRegularFile(candidate)) {
                try {
                    return Files.readString(candidate, StandardCharsets.UTF_8);
                }
                catch (IOException ex) {
                    throw new IllegalStateException("cannot read " + candidate, ex);
                }
            }
        }
        throw new IllegalStateException("docs/vault/postern-policy.hcl not found from " + Path.of("").toAbsolutePath());
    }

    private static void expectSuccess(HttpResponse<String> response, String what) {
        assertThat(response.statusCode() / 100).as("%s: %s %s", what, response.statusCode(), response.body())
            .isEqualTo(2);
    }
}
