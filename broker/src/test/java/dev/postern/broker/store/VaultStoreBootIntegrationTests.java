package dev.postern.broker.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.context.ConfigurableApplicationContext;

import dev.postern.broker.PosternApplication;
import dev.postern.broker.testing.TestVault;
import dev.postern.broker.testing.VaultExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The broker started on a real Vault, and refusing to start with a clear message without one. */
@ExtendWith(VaultExtension.class)
class VaultStoreBootIntegrationTests {

    private static ConfigurableApplicationContext start(String... properties) {
        SpringApplication application = new SpringApplication(PosternApplication.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        return application.run(properties);
    }

    @Test
    void startWithVaultThenTheStoreIsVaultAndHealthy(TestVault vault) {
        try (ConfigurableApplicationContext context = start("--postern.store.type=vault",
                "--postern.store.vault.uri=" + vault.address(), "--postern.store.vault.token=" + vault.rootToken(),
                "--postern.store.vault.prefix=postern-boot-" + System.nanoTime() + "/",
                "--postern.access.bootstrap-admin-key=pst_boot_test_key_0123456789abcdefghijklmnop")) {
            SecretStore store = context.getBean(SecretStore.class);

            // The configured backend, behind the store-request counters every backend gets and the key directory.
            assertThat(store).isInstanceOf(KeyDirectory.class);
            assertThat(context.getBean(CountingSecretStore.class)).isNotNull();
            assertThat(store.checkHealth()).containsEntry("backend", "vault");
            assertThat(store.list(SecretPath.of(StoreCollection.CLIENTS))).hasSize(1);
        }
    }

    @Test
    void startWithVaultOverTlsTrustingItsCaThenWritesAndReadsBothPass() throws Exception {
        try (TestVault vault = TestVault.dedicatedTls();
                ConfigurableApplicationContext context = start("--postern.store.type=vault",
                        "--postern.store.vault.uri=" + vault.address(), "--postern.store.vault.token=" + vault.rootToken(),
                        "--postern.store.vault.ca-certificate=" + vault.caCertificate(),
                        "--postern.access.bootstrap-admin-key=pst_boot_test_key_0123456789abcdefghijklmnop")) {
            SecretStore store = context.getBean(SecretStore.class);
            SecretPath clients = SecretPath.of(StoreCollection.CLIENTS);

            // The bootstrap key's client was written (Transit and KV writes, one HTTP client) and is
            // read back by a KV read (the other client), both over TLS with Vault's own CA.
            assertThat(vault.address()).startsWith("https://");
            assertThat(store.read(clients.child(store.list(clients).getFirst()))).isPresent();
        }
    }

    @Test
    void startWithVaultOverTlsWithoutItsCaThenRefused() throws Exception {
        try (TestVault vault = TestVault.dedicatedTls()) {
            Throwable failure = catchStartFailure("--postern.store.type=vault", "--postern.store.vault.uri=" + vault.address(),
                    "--postern.store.vault.token=" + vault.rootToken());

            assertThat(new StoreFailureAnalyzer().analyze(failure).getDescription())
                .startsWith("Postern cannot use its secret store").doesNotContain(vault.rootToken());
        }
    }

    @Test
    void startWithUnreachableVaultThenFailureAnalysisInsteadOfStackTrace() {
        String address = "http://127.0.0.1:" + TestVault.freePort();

        Throwable failure = catchStartFailure("--postern.store.type=vault", "--postern.store.vault.uri=" + address,
                "--postern.store.vault.token=whatever-token");

        FailureAnalysis analysis = new StoreFailureAnalyzer().analyze(failure);
        assertThat(analysis).isNotNull();
        assertThat(analysis.getDescription()).startsWith("Postern cannot use its secret store: Vault is unreachable")
            .doesNotContain("whatever-token");
        assertThat(analysis.getAction()).contains("docs/vault.md");
    }

    @Test
    void startWithVaultButNoTokenThenClearMessage() {
        Throwable failure = catchStartFailure("--postern.store.type=vault", "--postern.store.vault.token=");

        assertThat(new StoreFailureAnalyzer().analyze(failure).getDescription()).contains("VAULT_TOKEN");
    }

    private static Throwable catchStartFailure(String... properties) {
        Throwable failure = catchThrowable(() -> start(properties).close());
        assertThat(failure).as("the broker must refuse to start").isNotNull();
        return failure;
    }
}
