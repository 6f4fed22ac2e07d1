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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.ObjectNode;

import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestIdentityProvider;

/**
 * A token endpoint on 127.0.0.1 in front of the test identity provider: it forwards requests
 * while healthy, answers a fault (a status with an optional Retry-After), or never answers. It
 * records when each refresh reached it, for which refresh token, and what the provider answered,
 * and can hold the provider's answer to one refresh (see {@link #holdRefreshOf}). Made with
 * {@link #issuingRefreshTokens}, it keeps the provider's code exchange (and so its id token) but
 * issues and rotates refresh tokens itself, so a test knows which refresh token every refresh
 * presented.
 */
final class FakeTokenEndpoint implements AutoCloseable {

    /** How long an unanswered call is held at most, should a test forget to release it. */
    private static final Duration LONGEST_HANG = Duration.ofMinutes(2);

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

    /** How long each refresh is held before it is answered (a slow provider). */
    private volatile Duration refreshDelay = Duration.ZERO;

    private final AtomicInteger refreshesInFlight = new AtomicInteger();

    private final AtomicInteger mostRefreshesInFlight = new AtomicInteger();

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
        mostRefreshesInFlight.set(0);
    }

    private void releaseHeldCalls() {
        CountDownLatch held = hang;
        hang = null;
        if (held != null) {
            held.countDown();
        }
    }

    /** From now on each refresh is answered {@code delay} after it arrived. */
    void slowRefreshes(Duration delay) {
        refreshDelay = delay;
    }

    /** The most refreshes that were being answered at one time, since the start or {@link #forgetRefreshCalls()}. */
    int mostRefreshesInFlight() {
        return mostRefreshesInFlight.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Map<String, String> form = form(body);
        String grantType = form.getOrDefault("grant_type", "");
        if (!grantType.equals("refresh_token")) {
            answer(exchange, body, form, grantType);
            return;
        }
        refreshCalls.add(new RefreshCall(System.nanoTime(), form.getOrDefault("refresh_token", "")));
        mostRefreshesInFlight.accumulateAndGet(refreshesInFlight.incrementAndGet(), Math::max);
        try {
            Thread.sleep(refreshDelay.toMillis());
            answer(exchange, body, form, grantType);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IOException(ex);
        }
        finally {
            refreshesInFlight.decrementAndGet();
        }
    }

    private void answer(HttpExchange exchange, byte[] body, Map<String, String> form, String grantType) throws IOException {
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
            if (grantType.equals("refresh_token")) {
                refreshAnswers.add(response.statusCode());
                HeldRefresh hold = held.get();
                if (hold != null && hold.refreshToken.equals(form.getOrDefault("refresh_token", ""))
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
        byte[] answer = response.body();
        if (refreshTokens != null && grantType.equals("authorization_code") && response.statusCode() == 200) {
            // The owner signed in: a new grant whose refresh tokens this endpoint issues and rotates.
            ObjectNode tokens = (ObjectNode) BrokerClient.JSON.readTree(answer);
            String mailbox = String.valueOf(TestIdentityProvider.claims(tokens.path("id_token").asString()).get("email"));
            tokens.put("refresh_token", refreshTokens.start(mailbox));
            answer = BrokerClient.JSON.writeValueAsBytes(tokens);
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
        ObjectNode answer = BrokerClient.JSON.createObjectNode()
            .put("access_token", "at-" + UUID.randomUUID())
            .put("token_type", "Bearer")
            .put("expires_in", accessTokenLifetime.toSeconds())
            .put("refresh_token", rotated)
            .put("scope", "openid email mail offline_access");
        byte[] bytes = BrokerClient.JSON.writeValueAsBytes(answer);
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
        releaseHeldCalls();
        server.stop(0);
    }
}
