package dev.postern.broker.reliability;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.postern.broker.testing.TestIdentityProvider;

/**
 * A token endpoint on 127.0.0.1 in front of the test identity provider: it forwards requests
 * while healthy, or answers a fault (a status with an optional Retry-After). It records when each
 * refresh reached it.
 */
final class FakeTokenEndpoint implements AutoCloseable {

    private final HttpServer server;

    private final HttpClient upstream;

    private final TestIdentityProvider idp;

    private volatile int faultStatus;

    private volatile String retryAfter;

    /** System.nanoTime() of each refresh_token grant that arrived. */
    final List<Long> refreshCalls = new CopyOnWriteArrayList<>();

    FakeTokenEndpoint(TestIdentityProvider idp) throws IOException {
        this.idp = idp;
        this.upstream = HttpClient.newBuilder().sslContext(idp.sslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.createContext("/token", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
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
        if (new String(body, StandardCharsets.UTF_8).contains("grant_type=refresh_token")) {
            refreshCalls.add(System.nanoTime());
        }
        int status = faultStatus;
        byte[] answer;
        if (status != 0) {
            answer = "{\"error\":\"temporarily_unavailable\"}".getBytes(StandardCharsets.UTF_8);
            if (retryAfter != null) {
                exchange.getResponseHeaders().add("Retry-After", retryAfter);
            }
        }
        else {
            HttpRequest.Builder forward = HttpRequest.newBuilder(URI.create(idp.tokenEndpointUrl()))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", exchange.getRequestHeaders().getFirst("Content-Type"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization != null) {
                forward.header("Authorization", authorization);
            }
            try {
                HttpResponse<byte[]> response = upstream.send(forward.build(), HttpResponse.BodyHandlers.ofByteArray());
                status = response.statusCode();
                answer = response.body();
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IOException(ex);
            }
        }
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, answer.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
