package dev.postern.broker.reliability;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import dev.postern.broker.PosternApplication;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

/** A broker application context in this JVM, on a Vault of the test's choosing, trusting the test identity provider. */
final class InProcessBroker implements AutoCloseable {

    final ConfigurableApplicationContext context;

    final BrokerApi api;

    private InProcessBroker(ConfigurableApplicationContext context, BrokerApi api) {
        this.context = context;
        this.api = api;
    }

    static InProcessBroker start(TestVault vault, String prefix, Map<String, Object> extra) {
        return start(vault.address(), vault.rootToken(), prefix, extra);
    }

    /** A broker on the Vault at {@code vaultAddress} (one server, or a load balancer in front of a cluster). */
    static InProcessBroker start(String vaultAddress, String vaultToken, String prefix, Map<String, Object> extra) {
        int port = TestVault.freePort();
        String adminKey = newAdminKey();
        Map<String, Object> properties = properties(vaultAddress, vaultToken, prefix, port, adminKey);
        properties.putAll(extra);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(PosternApplication.class)
            // Arguments, not default properties: application.yml's ${ENV:default} values outrank those.
            .run(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
        return new InProcessBroker(context, new BrokerApi(port, adminKey));
    }

    /** A bootstrap admin key: brokers that share a Vault prefix are given the same one. */
    static String newAdminKey() {
        return "pst_test_admin_" + UUID.randomUUID().toString().replace("-", "");
    }

    /**
     * The properties of a broker on {@code vault} under {@code prefix}, listening on 127.0.0.1:{@code port},
     * with {@code adminKey} as its bootstrap admin and the test identity provider's certificate trusted:
     * the same for a broker in this JVM and one in a child process ({@link BrokerProcess}).
     */
    static Map<String, Object> properties(TestVault vault, String prefix, int port, String adminKey) {
        return properties(vault.address(), vault.rootToken(), prefix, port, adminKey);
    }

    /** {@link #properties(TestVault, String, int, String)} on any Vault address (a load balancer in front of a cluster). */
    static Map<String, Object> properties(String vaultAddress, String vaultToken, String prefix, int port,
            String adminKey) {
        TestIdentityProvider idp = TestIdentityProvider.shared();
        Map<String, Object> properties = new HashMap<>();
        properties.put("server.port", port);
        properties.put("postern.public-url", "http://127.0.0.1:" + port);
        properties.put("postern.store.type", "vault");
        properties.put("postern.store.vault.uri", vaultAddress);
        properties.put("postern.store.vault.token", vaultToken);
        properties.put("postern.store.vault.prefix", prefix);
        properties.put("postern.access.bootstrap-admin-key", adminKey);
        properties.put("spring.ssl.bundle.jks.idp.truststore.location", "file:" + idp.trustStoreFile());
        properties.put("spring.ssl.bundle.jks.idp.truststore.password", TestIdentityProvider.TRUST_STORE_PASSWORD);
        properties.put("spring.ssl.bundle.jks.idp.truststore.type", "PKCS12");
        properties.put("postern.providers.ssl-bundle", "idp");
        properties.put("postern.outbound.allowed-hosts", "127.0.0.1,localhost");
        return properties;
    }

    <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    @Override
    public void close() {
        context.close();
    }
}
