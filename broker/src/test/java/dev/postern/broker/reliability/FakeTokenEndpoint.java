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
 * while healthy, answers a fault (a status with an optional Retry-After), or never answers. It
 * records when each refresh reached it, for which refresh token, and what the provider answered,
 * and can hold the provider's answer to one refresh (see {@link #holdRefreshOf}).
 */
final class FakeTokenEndpoint implements AutoCloseable {

    /** How long an unanswered call is held at most, should a test forget to release it. */
    private static final Duration LONGEST_HANG = Duration.ofMinutes(2);

    private final HttpServer server;

    private final HttpClient upstream;

    private final TestIdentityProvider idp;

    private volatile int faultStatus;

    private volatile String retryAfter;

    /** Counted down to release the calls held unanswered; null while calls are answered. */
    private volatile CountDownLatch hang;

    /** A refresh_token grant that arrived: System.nanoTime() and the refresh token it carried. */
    private record RefreshCall(long nanoTime, String refreshToken) {

        @Override
        public String toString() {
            return "RefreshCall[nanoTime=" + nanoTime + ", refreshToken=<redacted>]";
        }
    }

    private final List<RefreshCall> refreshCalls = new CopyOnWriteArrayList<>();

    /** The provider's status for each refresh forwarded to it (400: it refused the refresh token). */
    private final List<Integer> refreshAnswers = new CopyOnWriteArrayList<>();

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
            return "HeldRefresh[refreshToken=<redacted>]";
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
        releaseHeldCalls();
    }

    void fail(int status, String retryAfterSeconds) {
        retryAfter = retryAfterSeconds;
        faultStatus = status;
    }

    /**
     * Sends client-credentials grants straight to the provider, through the client this endpoint
     * forwards with, until one is answered within {@code fastEnough}; returns how long that one
     * took. A cold provider (its code and the TLS connection) on a loaded machine answers its first
     * calls in seconds, longer than the short provider timeout a test may give the broker.
     */
    Duration warmUp(Duration fastEnough, Duration deadline) throws IOException, InterruptedException {
        HttpRequest grant = HttpRequest.newBuilder(URI.create(idp.tokenEndpointUrl()))
            .timeout(deadline)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id="
                    + TestIdentityProvider.CLIENT_ID + "&client_secret=warm-up&scope=openid"))
            .build();
        long giveUp = System.nanoTime() + deadline.toNanos();
        while (true) {
            long started = System.nanoTime();
            HttpResponse<String> answer = upstream.send(grant, HttpResponse.BodyHandlers.ofString());
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            if (answer.statusCode() == 200 && took.compareTo(fastEnough) <= 0) {
                return took;
            }
            if (System.nanoTime() > giveUp) {
                throw new IllegalStateException("the identity provider did not answer a grant within " + fastEnough
                        + " for " + deadline + " (last: " + answer.statusCode() + " in " + took.toMillis() + " ms)");
            }
        }
    }

    /**
     * Holds the answer to the next refresh of {@code refreshToken}: the request is forwarded to the
     * provider at once, its answer reaches the broker when the test releases it (at most
     * {@link #LONGEST_HANG} later).
     */
    HeldRefresh holdRefreshOf(String refreshToken) {
        HeldRefresh hold = new HeldRefresh(refreshToken);
        held.set(hold);
        return hold;
    }

    /** From now on calls get no answer at all until {@link #healthy()} or {@link #close()}. */
    void hang() {
        hang = new CountDownLatch(1);
    }

    /** System.nanoTime() of each refresh that arrived, in order. */
    List<Long> refreshCallTimes() {
        return refreshCalls.stream().map(RefreshCall::nanoTime).toList();
    }

    /** System.nanoTime() of each refresh with {@code refreshToken} that arrived, in order. */
    List<Long> refreshCallTimes(String refreshToken) {
        return refreshCalls.stream().filter(call -> call.refreshToken().equals(refreshToken)).map(RefreshCall::nanoTime).toList();
    }

    /** The provider's status for each refresh forwarded to it, in order. */
    List<Integer> refreshAnswers() {
        return List.copyOf(refreshAnswers);
    }

    /** Forgets the refreshes so far and their answers (setting up also calls the endpoint). */
    void forgetRefreshCalls() {
        refreshCalls.clear();
        refreshAnswers.clear();
    }

    private void releaseHeldCalls() {
        CountDownLatch held = hang;
        hang = null;
        if (held != null) {
            held.countDown();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String form = new String(body, StandardCharsets.UTF_8);
        boolean refresh = formValue(form, "grant_type").equals("refresh_token");
        if (refresh) {
            refreshCalls.add(new RefreshCall(System.nanoTime(), formValue(form, "refresh_token")));
        }
        CountDownLatch hanging = hang;
        if (hanging != null) {
            try {
                hanging.await(LONGEST_HANG.toMillis(), TimeUnit.MILLISECONDS);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            // The caller gave up long ago: close the connection without an answer.
            exchange.close();
            return;
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
                        hold.released.await(LONGEST_HANG.toMillis(), TimeUnit.MILLISECONDS);
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
            if (equals > 0 && pair.substring(0, equals).equals(name)) {
                return URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
            }
        }
        return "";
    }

    @Override
    public void close() {
        releaseHeldCalls();
        server.stop(0);
    }
}
