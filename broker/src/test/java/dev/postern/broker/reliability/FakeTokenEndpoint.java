package dev.postern.broker.reliability;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.ObjectNode;

import dev.postern.broker.testing.TestIdentityProvider;

/**
 * A token endpoint on 127.0.0.1 in front of the test identity provider: it forwards requests
 * while healthy, or answers a fault (a status with an optional Retry-After). It records when each
 * refresh reached it. Made with {@link #issuingRefreshTokens}, it keeps the provider's code exchange
 * (and so its id token) but issues and rotates refresh tokens itself, so a test knows which refresh
 * token every refresh presented.
 */
final class FakeTokenEndpoint implements AutoCloseable {

    private final HttpServer server;

    private final HttpClient upstream;

    private final TestIdentityProvider idp;

    /** The refresh tokens this endpoint issues itself, or {@code null} when it forwards refreshes to the provider. */
    private final @Nullable RotatingRefreshTokens refreshTokens;

    /** The lifetime of the access tokens it issues with {@link #refreshTokens}. */
    private final Duration accessTokenLifetime;

    private volatile Consumer<Runnable> rotatedAnswers = Runnable::run;

    private volatile int faultStatus;

    private volatile String retryAfter;

    /** System.nanoTime() of each refresh_token grant that arrived. */
    final List<Long> refreshCalls = new CopyOnWriteArrayList<>();

    FakeTokenEndpoint(TestIdentityProvider idp) throws IOException {
        this(idp, null, Duration.ZERO);
    }

    private FakeTokenEndpoint(TestIdentityProvider idp, @Nullable RotatingRefreshTokens refreshTokens,
            Duration accessTokenLifetime) throws IOException {
        this.idp = idp;
        this.refreshTokens = refreshTokens;
        this.accessTokenLifetime = accessTokenLifetime;
        this.upstream = HttpClient.newBuilder().sslContext(idp.sslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.createContext("/token", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /**
     * An endpoint that forwards the code exchange to the provider but answers it with the first refresh
     * token of a new grant in {@code refreshTokens}, and answers every refresh itself: a new refresh token
     * and an access token living {@code accessTokenLifetime}, or {@code invalid_grant} when
     * {@code refreshTokens} refuses the presented one.
     */
    static FakeTokenEndpoint issuingRefreshTokens(TestIdentityProvider idp, RotatingRefreshTokens refreshTokens,
            Duration accessTokenLifetime) throws IOException {
        return new FakeTokenEndpoint(idp, refreshTokens, accessTokenLifetime);
    }

    /**
     * Hands the sending of every answer that carries a rotated refresh token to {@code sender}: the
     * provider has rotated, and the broker has not seen the new token until the given action runs. A test
     * can hold it there, or act the moment it went out (kill the broker).
     */
    void sendRotatedAnswersThrough(Consumer<Runnable> sender) {
        rotatedAnswers = sender;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    void healthy() {
        faultStatus = 0;
    }

    void fail(int status, String retryAfterSeconds) {
        retryAfter = retryAfterSeconds;
        faultStatus = status;
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Map<String, String> form = form(body);
        String grantType = form.getOrDefault("grant_type", "");
        if (grantType.equals("refresh_token")) {
            refreshCalls.add(System.nanoTime());
        }
        int status = faultStatus;
        if (status != 0) {
            if (retryAfter != null) {
                exchange.getResponseHeaders().add("Retry-After", retryAfter);
            }
            send(exchange, status, "{\"error\":\"temporarily_unavailable\"}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (refreshTokens != null && grantType.equals("refresh_token")) {
            rotate(exchange, form.getOrDefault("refresh_token", ""));
            return;
        }
        HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(idp.tokenEndpointUrl()))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", exchange.getRequestHeaders().getFirst("Content-Type"))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization != null) {
            forward.header("Authorization", authorization);
        }
        HttpResponse<byte[]> response;
        try {
            response = upstream.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException(ex);
        }
        byte[] answer = response.body();
        if (refreshTokens != null && grantType.equals("authorization_code") && response.statusCode() == 200) {
            // The owner signed in: a new grant whose refresh tokens this endpoint issues and rotates.
            ObjectNode tokens = (ObjectNode) BrokerApi.JSON.readTree(answer);
            String mailbox = String.valueOf(TestIdentityProvider.claims(tokens.path("id_token").asString()).get("email"));
            tokens.put("refresh_token", refreshTokens.start(mailbox));
            answer = BrokerApi.JSON.writeValueAsBytes(tokens);
        }
        send(exchange, response.statusCode(), answer);
    }

    private void rotate(HttpExchange exchange, String presented) throws IOException {
        String rotated = refreshTokens.redeem(presented);
        if (rotated == null) {
            send(exchange, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"the refresh token was revoked, used or never issued\"}"
                .getBytes(StandardCharsets.UTF_8));
            return;
        }
        ObjectNode answer = BrokerApi.JSON.createObjectNode()
            .put("access_token", "at-" + UUID.randomUUID())
            .put("token_type", "Bearer")
            .put("expires_in", accessTokenLifetime.toSeconds())
            .put("refresh_token", rotated)
            .put("scope", "openid email mail offline_access");
        byte[] bytes = BrokerApi.JSON.writeValueAsBytes(answer);
        rotatedAnswers.accept(() -> {
            try {
                send(exchange, 200, bytes);
            }
            catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        });
    }

    private static void send(HttpExchange exchange, int status, byte[] answer) throws IOException {
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    private static Map<String, String> form(byte[] body) {
        Map<String, String> form = new HashMap<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                form.put(URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
