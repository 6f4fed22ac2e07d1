package dev.postern.broker.reliability;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import dev.postern.broker.testing.TestIdentityProvider;

/**
 * A token endpoint on 127.0.0.1 in front of the test identity provider: it forwards requests
 * while healthy, or answers a fault (a status with an optional Retry-After). It records when each
 * refresh reached it and what the provider answered, and can hold the provider's answer to one
 * refresh (see {@link #holdRefreshOf}).
 */
final class FakeTokenEndpoint implements AutoCloseable {

    private final HttpServer server;

    private final HttpClient upstream;

    private final TestIdentityProvider idp;

    private volatile int faultStatus;

    private volatile String retryAfter;

    /** System.nanoTime() of each refresh_token grant that arrived. */
    final List<Long> refreshCalls = new CopyOnWriteArrayList<>();

    /** The provider's status for each refresh_token grant forwarded to it (400 is a refused refresh token). */
    final List<Integer> refreshAnswers = new CopyOnWriteArrayList<>();

    private final AtomicReference<HeldRefresh> held = new AtomicReference<>();

    /**
     * A refresh whose answer the endpoint keeps: the provider has answered it (and so rotated the
     * refresh token) but the broker gets the answer only on {@link #release()}.
     */
    static final class HeldRefresh {

        private final String refreshToken;

        private final CountDownLatch answeredByProvider = new CountDownLatch(1);

        private final CountDownLatch released = new CountDownLatch(1);

        private HeldRefresh(String refreshToken) {
            this.refreshToken = refreshToken;
        }

        /** Waits until the provider has answered the held refresh. */
        boolean awaitProviderAnswer(Duration timeout) throws InterruptedException {
            return answeredByProvider.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        /** Hands the provider's answer to the broker. */
        void release() {
            released.countDown();
        }

        @Override
        public String toString() {
            return "HeldRefresh[refreshToken=(redacted)]";
        }
    }

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

    /**
     * Holds the answer to the next refresh of {@code refreshToken}: the request is forwarded to the
     * provider at once, its answer reaches the broker when the test releases it (at most 60 s later).
     */
    HeldRefresh holdRefreshOf(String refreshToken) {
        HeldRefresh hold = new HeldRefresh(refreshToken);
        held.set(hold);
        return hold;
    }

    void fail(int status, String retryAfterSeconds) {
        retryAfter = retryAfterSeconds;
        faultStatus = status;
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String form = new String(body, StandardCharsets.UTF_8);
        boolean refresh = form.contains("grant_type=refresh_token");
        if (refresh) {
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
                if (refresh) {
                    refreshAnswers.add(status);
                    HeldRefresh hold = held.get();
                    if (hold != null && hold.refreshToken.equals(formValue(form, "refresh_token"))
                            && held.compareAndSet(hold, null)) {
                        hold.answeredByProvider.countDown();
                        hold.released.await(60, TimeUnit.SECONDS);
                    }
                }
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

    private static String formValue(String form, String name) {
        for (String pair : form.split("&")) {
            int equals = pair.indexOf('=');
            if (equals > 0 && URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8).equals(name)) {
                return URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
