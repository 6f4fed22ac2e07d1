package dev.postern.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;

import dev.postern.broker.PosternApplication;

/**
 * A broker application context started by a test in this JVM, on a Vault of the test's choosing,
 * trusting the test identity provider, with its {@link BrokerClient}. Brokers on one Vault prefix
 * are replicas; a new one after close is a restart. {@link #properties} is the one configuration
 * of every test broker on Vault: the shared context of {@link ApiIntegrationTest} and the child
 * processes of the fault tests use it too; {@link #embeddedProperties} is that of a broker on the
 * embedded store.
 */
public final class TestBroker implements AutoCloseable {

    public final ConfigurableApplicationContext context;

    public final BrokerClient api;

    private TestBroker(ConfigurableApplicationContext context, BrokerClient api) {
        this.context = context;
        this.api = api;
    }

    /** A broker on {@code vault} under {@code prefix} with a new bootstrap admin key, plus {@code extra} properties. */
    public static TestBroker start(TestVault vault, String prefix, Map<String, Object> extra) {
        return start(vault.address(), vault.rootToken(), prefix, newAdminKey(), extra);
    }

    /** {@link #start(String, String, String, String, Map, Object...)} on the shared {@link TestVault}. */
    public static TestBroker start(String prefix, String adminKey, Map<String, Object> extra, Object... beans) {
        TestVault vault = TestVault.shared();
        return start(vault.address(), vault.rootToken(), prefix, adminKey, extra, beans);
    }

    /**
     * A broker on the Vault at {@code vaultAddress} (one server, or a load balancer in front of a
     * cluster) under {@code prefix}, with {@code adminKey} as its bootstrap admin, plus {@code extra}
     * properties; each of {@code beans} (a {@code Clock}, a Graph token source) replaces the broker's
     * own bean of its type.
     */
    public static TestBroker start(String vaultAddress, String vaultToken, String prefix, String adminKey,
            Map<String, Object> extra, Object... beans) {
        int port = TestVault.freePort();
        Map<String, Object> properties = properties(vaultAddress, vaultToken, prefix, port, adminKey);
        properties.putAll(extra);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(PosternApplication.class)
            .initializers(ctx -> {
                for (int i = 0; i < beans.length; i++) {
                    ctx.getBeanFactory().registerSingleton("testBean" + i, beans[i]);
                }
            })
            // Arguments, not default properties: application.yml's ${ENV:default} values outrank those.
            .run(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
        return new TestBroker(context, new BrokerClient(port, adminKey));
    }

    /** A bootstrap admin key: brokers that share a Vault prefix are given the same one. */
    public static String newAdminKey() {
        return "pst_test_admin_" + UUID.randomUUID().toString().replace("-", "");
    }

    /**
     * The properties of a broker on the Vault at {@code vaultAddress} under {@code prefix}, listening
     * on 127.0.0.1:{@code port}, with {@code adminKey} as its bootstrap admin, the test identity
     * provider trusted (and standing in for Microsoft's login host), and outbound calls allowed to
     * this machine.
     */
    public static Map<String, Object> properties(String vaultAddress, String vaultToken, String prefix, int port,
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
        properties.put("postern.providers.microsoft-authority-host", idp.baseUrl());
        properties.put("postern.outbound.allowed-hosts", "127.0.0.1,localhost");
        // Tests count the store requests of a request: the key directory's background LIST (every 30 s
        // by default) would land in some of those windows. Its refresh is tested on its own
        // (KeyDirectoryIntegrationTests, AccountIndexIntegrationTests).
        properties.put("postern.store.key-refresh", "1h");
        return properties;
    }

    /** Where the broker says it is reached ({@code postern.public-url}): links in alerts start with it. */
    public String publicUrl() {
        return context.getEnvironment().getRequiredProperty("postern.public-url");
    }

    /** A new empty data folder for a broker on the embedded store. */
    public static Path embeddedDataFolder(String name) {
        try {
            return Files.createTempDirectory("postern-" + name + "-");
        }
        catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * The store and bootstrap settings of a broker on the embedded store keeping its data in
     * {@code data}, as {@code scripts/run} starts it, for tests that need no Vault.
     */
    public static void embeddedProperties(DynamicPropertyRegistry registry, Path data, String bootstrapAdminKey) {
        registry.add("postern.store.type", () -> "embedded");
        registry.add("postern.store.embedded.file", () -> data.resolve("store.bin").toString());
        registry.add("postern.store.embedded.key-file", () -> data.resolve("master.key").toString());
        registry.add("postern.access.bootstrap-key-file", () -> data.resolve("bootstrap-admin-key").toString());
        registry.add("postern.access.bootstrap-admin-key", () -> bootstrapAdminKey);
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    @Override
    public void close() {
        context.close();
    }
}
