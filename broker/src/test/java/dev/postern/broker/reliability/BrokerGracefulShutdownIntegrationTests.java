package dev.postern.broker.reliability;

import java.net.ConnectException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.reliability.RotatingRefreshTokens.Redemption;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

import static dev.postern.broker.reliability.RotatingProviders.CLIENT_THREADS;
import static dev.postern.broker.reliability.RotatingProviders.MAILBOXES_PER_PROVIDER;
import static dev.postern.broker.reliability.RotatingProviders.MIN_TTL;
import static dev.postern.broker.reliability.RotatingProviders.REQUESTS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code SIGTERM} to a broker process in the middle of 1,000 refreshes with rotating refresh tokens, sent
 * while each provider holds the answer to one refresh it has already rotated: the broker must answer
 * readiness DOWN, keep serving cached tokens, answer new misses {@code 503 shutting-down} with
 * {@code Retry-After}, store the held refreshes once they are answered, and only then exit. A new broker on
 * the same Vault then refreshes every mailbox with the newest refresh token, at both providers: nothing is
 * lost (compare {@link BrokerKillNineIntegrationTests}, where exactly the mailboxes in the window are).
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class BrokerGracefulShutdownIntegrationTests {

    /** SIGTERM comes after this many rotations at the providers: the middle of the run. */
    static final int STOP_AFTER_ROTATIONS = REQUESTS / 2;

    /** A request asking for one minute is served from memory: the token in it lives two. */
    static final int CACHED_MIN_TTL = 60;

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Test
    void sigtermInTheMiddleOfAThousandRotatingRefreshesStoresEveryRefreshUnderWayAndLosesNoMailbox() throws Exception {
        TestVault vault = TestVault.shared();
        String prefix = "postern-graceful-" + UUID.randomUUID() + "/";
        String adminKey = TestBroker.newAdminKey();
        try (BrokerProcess stopped = BrokerProcess.start("graceful", vault, prefix, adminKey, Map.of());
                RotatingProviders rotating = RotatingProviders.connect(stopped.api, idp, "graceful")) {
            String clientKey = rotating.clientKey;
            List<String> accounts = new ArrayList<>(rotating.accounts);
            // The probe mailbox is asked for by the test alone during the drain, never by the clients, so its
            // request never joins a held refresh: the first mailbox of the old-tokens-keep-working provider,
            // refreshed once now so that a token is in memory.
            String probe = List.copyOf(rotating.providers.getFirst().accounts().values()).getFirst();
            accounts.remove(probe);
            assertThat(stopped.api.token(clientKey, probe, MIN_TTL).status()).isEqualTo(200);
            int unknownAfterSetup = rotating.unknownPresented();

            StopInTheWindow stop = new StopInTheWindow(rotating, stopped, clientKey, probe);
            rotating.sendRotatedAnswersThrough(stop::sender);
            AtomicInteger answered = new AtomicInteger();
            AtomicInteger drained = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
            long started = System.nanoTime();
            boolean finished = rotating.runClients(stopped.api, accounts, answer -> {
                if (answer.status() == 200) {
                    answered.incrementAndGet();
                }
                else if (isShuttingDown(answer)) {
                    drained.incrementAndGet();
                    sleep(100);
                }
                else {
                    unexpected.add(answer.status() + " " + answer.header("Retry-After") + " " + answer.body());
                }
            }, failed -> {
                if (failed.getCause() instanceof ConnectException || closedBeforeItWasRead(failed.getCause())) {
                    // The listener is closed, or the stopping server closed the client's idle keep-alive
                    // connection as the request went out, unread (a request it had read, it answers):
                    // a client goes to another replica. The mailbox checks below prove nothing was lost.
                    refused.incrementAndGet();
                }
                else {
                    unexpected.add("no answer: " + failed.getCause());
                }
            });
            assertThat(finished).as("the clients finished").isTrue();
            int exitStatus = stopped.awaitExit(Duration.ofSeconds(90));
            long exitedMillis = (System.nanoTime() - stop.sigtermAt) / 1_000_000;
            long runMillis = (System.nanoTime() - started) / 1_000_000;
            assertThat(stop.failure).as("the stop in the window").isNull();
            assertThat(stop.sigtermAt).as("SIGTERM was sent").isPositive();
            // The JVM reports 128 + SIGTERM for a shutdown the signal started, however well it went.
            assertThat(exitStatus).as("exit status").isEqualTo(143);
            assertThat(stop.readiness).as("readiness while draining").isEqualTo(503);
            assertThat(stop.cachedStatus).as("a cached token while draining").isEqualTo(200);
            assertThat(stop.missStatus).as("a miss while draining").isEqualTo(503);
            assertThat(stop.missRetryAfter).as("Retry-After of a miss while draining").isNotNull();
            assertThat(unexpected).as("answers other than 200 or 503 shutting-down, or connections lost").isEmpty();
            String drainLine = Files.readAllLines(stopped.log)
                .stream()
                .filter(line -> line.contains("token refreshes under way have finished"))
                .findFirst()
                .orElse("(no drain line in the log)");

            Map<String, Integer> latestAtStop = rotating.latestGenerations();
            Map<String, Integer> refreshesAtStop = rotating.refreshCounts();

            try (BrokerProcess restarted = BrokerProcess.start("graceful-restarted", vault, prefix, adminKey, Map.of())) {
                StringBuilder summary = new StringBuilder();
                for (RotatingProviders.Provider provider : rotating.providers) {
                    int refreshing = 0;
                    for (Map.Entry<String, String> mailbox : provider.accounts().entrySet()) {
                        BrokerClient.Answer check = restarted.api.token(clientKey, mailbox.getValue(), MIN_TTL);
                        assertThat(check.status()).as("%s after the restart: %s", mailbox.getKey(), check.body())
                            .isEqualTo(200);
                        List<Redemption> redemptions = provider.refreshTokens().redemptions(mailbox.getKey());
                        assertThat(redemptions).as("refreshes of %s after the restart", mailbox.getKey())
                            .hasSize(refreshesAtStop.get(mailbox.getKey()) + 1);
                        // The newest refresh token the provider issued was stored: no rotation was lost.
                        assertThat(redemptions.getLast().generation()).as("refresh token of %s presented after the restart",
                                mailbox.getKey())
                            .isEqualTo(latestAtStop.get(mailbox.getKey()));
                        refreshing++;
                    }
                    summary.append(String.format("; %s: %d of %d refresh with the newest token",
                            provider.refreshTokens().rotation().name().toLowerCase().replace('_', ' '), refreshing,
                            MAILBOXES_PER_PROVIDER));
                }
                assertThat(rotating.unknownPresented())
                    .as("refresh tokens presented that the provider never issued")
                    .isEqualTo(unknownAfterSetup);
                System.out.printf("[graceful] %d token requests, each a refresh with a rotating refresh token, over %d "
                        + "mailboxes from %d threads: SIGTERM after %d rotations with %d rotated answers held; readiness "
                        + "%d after %d ms, a cached token %d, a miss %d (Retry-After %s) while draining; then %d answered, "
                        + "%d got 503 shutting-down, %d found the listener or their idle connection closed, 0 reset or 500; exit %d %d ms after "
                        + "SIGTERM (run %d ms); broker log: \"%s\"%s%n", REQUESTS, accounts.size() + 1, CLIENT_THREADS,
                        stop.rotationsAtSigterm, rotating.providers.size(), stop.readiness, stop.readinessAfterMillis, stop.cachedStatus,
                        stop.missStatus, stop.missRetryAfter, answered.get(), drained.get(), refused.get(), exitStatus,
                        exitedMillis, runMillis, drainLine.substring(drainLine.indexOf("Shutting down") < 0 ? 0
                                : drainLine.indexOf("Shutting down")), summary);
            }
        }
    }

    private static boolean isShuttingDown(BrokerClient.Answer answer) {
        return answer.status() == 503 && answer.header("Retry-After") != null
                && answer.text("type").endsWith("/shutting-down");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Once the providers rotated {@link #STOP_AFTER_ROTATIONS} times, holds the next rotated answer of each
     * provider until every provider has one; then sends SIGTERM, waits for readiness to answer 503, asks for a
     * cached token and for a miss, and only then lets the held answers go: the broker received the rotations
     * after it was told to stop.
     */
    private static final class StopInTheWindow {

        private final RotatingProviders rotating;

        private final BrokerProcess broker;

        private final String clientKey;

        private final String probe;

        private final CyclicBarrier allHeld;

        private final AtomicBoolean[] held;

        volatile long sigtermAt;

        volatile int rotationsAtSigterm;

        volatile int readiness = -1;

        volatile long readinessAfterMillis = -1;

        volatile int cachedStatus = -1;

        volatile int missStatus = -1;

        volatile String missRetryAfter;

        volatile Exception failure;

        StopInTheWindow(RotatingProviders rotating, BrokerProcess broker, String clientKey, String probe) {
            this.rotating = rotating;
            this.broker = broker;
            this.clientKey = clientKey;
            this.probe = probe;
            this.allHeld = new CyclicBarrier(rotating.providers.size(), this::stopAndLook);
            this.held = new AtomicBoolean[rotating.providers.size()];
            for (int i = 0; i < held.length; i++) {
                held[i] = new AtomicBoolean();
            }
        }

        Consumer<Runnable> sender(int provider) {
            return answer -> {
                int rotations = rotating.rotations();
                if (rotations <= STOP_AFTER_ROTATIONS || !held[provider].compareAndSet(false, true)) {
                    answer.run();
                    return;
                }
                try {
                    allHeld.await(60, TimeUnit.SECONDS);
                }
                catch (InterruptedException | BrokenBarrierException | TimeoutException ex) {
                    failure = ex;
                }
                answer.run();
            };
        }

        /** Runs in the last holder to arrive, before any held answer goes out. */
        private void stopAndLook() {
            try {
                rotationsAtSigterm = rotating.rotations();
                sigtermAt = System.nanoTime();
                Signals.send("TERM", broker.process.pid());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < deadline) {
                    int status = broker.api.call("GET", "/actuator/health/readiness", null, null).status();
                    if (status != 200) {
                        readiness = status;
                        readinessAfterMillis = (System.nanoTime() - sigtermAt) / 1_000_000;
                        break;
                    }
                    sleep(20);
                }
                cachedStatus = broker.api.token(clientKey, probe, CACHED_MIN_TTL).status();
                // Readiness turns DOWN a moment before the drain begins: a miss in that moment is still refreshed.
                while (System.nanoTime() < deadline) {
                    BrokerClient.Answer miss = broker.api.token(clientKey, probe, MIN_TTL);
                    if (miss.status() != 200) {
                        missStatus = miss.status();
                        missRetryAfter = isShuttingDown(miss) ? miss.header("Retry-After") : null;
                        break;
                    }
                }
            }
            catch (RuntimeException ex) {
                failure = ex;
            }
        }
    }

    /** The JDK client's words for a kept-alive connection that the server closed before any answer. */
    private static boolean closedBeforeItWasRead(Throwable failure) {
        return failure instanceof java.io.IOException io && io.getMessage() != null
                && io.getMessage().contains("header parser received no bytes");
    }
}
