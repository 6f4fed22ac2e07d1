package dev.postern.broker.expiry;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.PosternApplication;
import dev.postern.broker.providers.microsoft.GraphTokenSource;
import dev.postern.broker.testing.TestVault;

/**
 * One broker process in a test: its own application context and HTTP port, on a shared Vault
 * prefix and a shared clock, so two of them are two replicas and a new one after close is a
 * restart.
 */
final class BrokerInstance implements AutoCloseable {

    static final String ADMIN_KEY = "pst_test_admin_" + java.util.UUID.randomUUID().toString().replace("-", "");

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static final JsonMapper JSON = JsonMapper.builder().build();

    final ConfigurableApplicationContext context;

    final int port;

    private BrokerInstance(ConfigurableApplicationContext context) {
        this.context = context;
        this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    static BrokerInstance start(String prefix, Clock clock, Map<String, Object> extra) {
        return startWithGraphToken(prefix, clock, extra, null);
    }

    /** A broker whose Graph tokens come from {@code graphTokens} instead of Microsoft. */
    static BrokerInstance startWithGraphToken(String prefix, Clock clock, Map<String, Object> extra,
            GraphTokenSource graphTokens) {
        TestVault vault = TestVault.shared();
        Map<String, Object> properties = new HashMap<>();
        properties.put("server.port", "0");
        properties.put("postern.store.type", "vault");
        properties.put("postern.store.vault.uri", vault.address());
        properties.put("postern.store.vault.token", vault.rootToken());
        properties.put("postern.store.vault.prefix", prefix);
        properties.put("postern.access.bootstrap-admin-key", ADMIN_KEY);
        properties.put("postern.public-url", "https://postern.example.test");
        properties.put("postern.outbound.allowed-hosts", "127.0.0.1,localhost");
        properties.putAll(extra);
        ConfigurableApplicationContext context = new SpringApplicationBuilder(PosternApplication.class)
            .initializers(ctx -> {
                ctx.getBeanFactory().registerSingleton("testClock", clock);
                if (graphTokens != null) {
                    ctx.getBeanFactory().registerSingleton("testGraphTokens", graphTokens);
                }
            })
            // Arguments, not default properties: application.yml's ${ENV:default} values outrank those.
            .run(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
        return new BrokerInstance(context);
    }

    <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    ExpiryScanner scanner() {
        return bean(ExpiryScanner.class);
    }

    record Answer(int status, JsonNode json, String body) {
    }

    Answer call(String method, String path, String key, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json;
            try {
                json = response.body().isBlank() ? JSON.missingNode() : JSON.readTree(response.body());
            }
            catch (RuntimeException ex) {
                json = JSON.missingNode();
            }
            return new Answer(response.statusCode(), json, response.body());
        }
        catch (java.io.IOException ex) {
            throw new IllegalStateException(method + " " + path + " failed", ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    @Override
    public void close() {
        context.close();
    }
}
