package dev.postern.broker.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.reliability.RotatingRefreshTokens.Redemption;
import dev.postern.broker.reliability.RotatingRefreshTokens.Rotation;
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
 * {@code kill -9} of a broker process in the middle of 1,000 refreshes with rotating refresh tokens, then a
 * new broker on the same Vault refreshes every mailbox, one by one. Half the mailboxes are at a provider
 * whose old refresh tokens keep working (Microsoft), half at one that revokes the grant when a used token
 * comes back (strict rotation with reuse detection). The kill comes the moment each provider has sent a
 * rotated token the broker has not stored yet, so both see at least one mailbox in that window: at the
 * first provider those still refresh, at the strict one exactly those are lost and no other.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class BrokerKillNineIntegrationTests {

    /** The kill comes after this many rotations at the providers: the middle of the run. */
    static final int KILL_AFTER_ROTATIONS = REQUESTS / 2;

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Test
    void killNineInTheMiddleOfAThousandRotatingRefreshesLosesOnlyMailboxesWhoseRotationWasNeverStored() throws Exception {
        TestVault vault = TestVault.shared();
        String prefix = "postern-kill-nine-" + UUID.randomUUID() + "/";
        String adminKey = TestBroker.newAdminKey();
        long settingUp = System.nanoTime();
        try (BrokerProcess killed = BrokerProcess.start("kill-nine", vault, prefix, adminKey, Map.of());
                RotatingProviders rotating = RotatingProviders.connect(killed.api, idp, "kill-nine")) {
            String clientKey = rotating.clientKey;
            List<String> accounts = rotating.accounts;
            // The credential probes of setting up presented made-up tokens; none may come from a refresh.
            int unknownAfterSetup = rotating.unknownPresented();

            KillInTheWindow kill = new KillInTheWindow(rotating, killed);
            rotating.sendRotatedAnswersThrough(kill::sender);
            long setupMillis = (System.nanoTime() - settingUp) / 1_000_000;
            AtomicInteger answered = new AtomicInteger();
            AtomicInteger cutOff = new AtomicInteger();
            List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
            long started = System.nanoTime();
            boolean finished = rotating.runClients(killed.api, accounts, answer -> {
                if (answer.status() == 200) {
                    answered.incrementAndGet();
                }
                else {
                    unexpected.add(answer.status() + " " + answer.body());
                }
            }, brokerGone -> cutOff.incrementAndGet());
            assertThat(finished).as("the clients finished").isTrue();
            assertThat(kill.done.await(60, TimeUnit.SECONDS)).as("the kill finished").isTrue();
            assertThat(kill.exitStatus).as("the broker was killed by SIGKILL (128 + 9)").isEqualTo(137);
            assertThat(kill.failure).as("holding the rotated answers").isNull();
            assertThat(unexpected).as("answers other than 200 before the kill").isEmpty();
            assertThat(answered.get()).as("answered before the kill").isBetween(KILL_AFTER_ROTATIONS - 2 * CLIENT_THREADS,
                    KILL_AFTER_ROTATIONS + 2 * CLIENT_THREADS);
            assertThat(cutOff.get()).as("requests cut off by the kill").isBetween(1, CLIENT_THREADS);
            long runMillis = (System.nanoTime() - started) / 1_000_000;

            // The providers' newest refresh token of every mailbox, as the broker died.
            Map<String, Integer> latestAtKill = rotating.latestGenerations();
            Map<String, Integer> refreshesAtKill = rotating.refreshCounts();

            long restarting = System.nanoTime();
            try (BrokerProcess restarted = BrokerProcess.start("kill-nine-restarted", vault, prefix, adminKey, Map.of())) {
                long restartMillis = (System.nanoTime() - restarting) / 1_000_000;
                StringBuilder summary = new StringBuilder();
                Duration slowestCheck = Duration.ZERO;
                for (RotatingProviders.Provider provider : rotating.providers) {
                    Set<String> inWindow = new LinkedHashSet<>();
                    Set<String> lost = new LinkedHashSet<>();
                    for (Map.Entry<String, String> mailbox : provider.accounts().entrySet()) {
                        BrokerClient.Answer check = restarted.api.token(clientKey, mailbox.getValue(), MIN_TTL);
                        slowestCheck = check.took().compareTo(slowestCheck) > 0 ? check.took() : slowestCheck;
                        List<Redemption> redemptions = provider.refreshTokens().redemptions(mailbox.getKey());
                        assertThat(redemptions).as("refreshes of %s after the restart", mailbox.getKey())
                            .hasSize(refreshesAtKill.get(mailbox.getKey()) + 1);
                        int presented = redemptions.getLast().generation();
                        int latest = latestAtKill.get(mailbox.getKey());
                        // At most one refresh of a mailbox was under way: the broker is at most one token behind.
                        assertThat(presented).as("refresh token %s presented after the restart", mailbox.getKey())
                            .isBetween(latest - 1, latest);
                        if (presented < latest) {
                            inWindow.add(mailbox.getKey());
                        }
                        if (check.status() != 200) {
                            assertThat(check.status()).as(check.body()).isEqualTo(409);
                            assertThat(check.text("type")).endsWith("/reauth-required");
                            lost.add(mailbox.getKey());
                        }
                    }
                    Rotation rotation = provider.refreshTokens().rotation();
                    assertThat(inWindow).as("%s: mailboxes whose rotated token the broker never stored", rotation)
                        .isNotEmpty();
                    if (rotation == Rotation.OLD_TOKENS_KEEP_WORKING) {
                        assertThat(lost).as("%s: mailboxes that no longer refresh", rotation).isEmpty();
                    }
                    else {
                        assertThat(lost).as("%s: mailboxes that no longer refresh", rotation).isEqualTo(inWindow);
                    }
                    // The chain goes on: what the new broker stored refreshes again.
                    for (Map.Entry<String, String> mailbox : provider.accounts().entrySet()) {
                        if (!lost.contains(mailbox.getKey())) {
                            BrokerClient.Answer again = restarted.api.token(clientKey, mailbox.getValue(), MIN_TTL);
                            assertThat(again.status()).as(again.body()).isEqualTo(200);
                        }
                    }
                    summary.append(String.format("; %s: %d of %d refresh, %d lost (%d had a rotation the broker never "
                            + "stored)", rotation.name().toLowerCase().replace('_', ' '), MAILBOXES_PER_PROVIDER - lost.size(),
                            MAILBOXES_PER_PROVIDER, lost.size(), inWindow.size()));
                }
                assertThat(rotating.unknownPresented())
                    .as("refresh tokens presented that the provider never issued")
                    .isEqualTo(unknownAfterSetup);
                System.out.printf("[kill -9] %d token requests, each a refresh with a rotating refresh token, over %d "
                        + "mailboxes (broker started and mailboxes connected in %d ms) from %d threads: SIGKILL (exit %d) after %d answered in %d ms, %d "
                        + "cut off; new broker on the same Vault up in %d ms, slowest check %d ms%s%n", REQUESTS,
                        accounts.size(), setupMillis, CLIENT_THREADS, kill.exitStatus, answered.get(), runMillis,
                        cutOff.get(), restartMillis, slowestCheck.toMillis(), summary);
            }
        }
    }

    /**
     * Once the providers rotated {@link #KILL_AFTER_ROTATIONS} times, holds the next rotated answer of each
     * provider until every provider has one, sends them all, and kills the broker at once: it received them
     * but cannot have stored them (that takes two Vault round trips). Other refreshes under way land wherever
     * they are.
     */
    private static final class KillInTheWindow {

        private final RotatingProviders rotating;

        private final BrokerProcess broker;

        private final CyclicBarrier allHeld;

        private final CountDownLatch allSent;

        private final AtomicBoolean[] held;

        private final AtomicBoolean killed = new AtomicBoolean();

        volatile int exitStatus = -1;

        /**
         * Counted down once the broker was killed and reaped, or the holding failed: the clients see
         * their connections drop before {@code kill()} has returned the exit status.
         */
        final CountDownLatch done = new CountDownLatch(1);

        volatile Exception failure;

        KillInTheWindow(RotatingProviders rotating, BrokerProcess broker) {
            this.rotating = rotating;
            this.broker = broker;
            this.allHeld = new CyclicBarrier(rotating.providers.size());
            this.allSent = new CountDownLatch(rotating.providers.size());
            this.held = new AtomicBoolean[rotating.providers.size()];
            for (int i = 0; i < held.length; i++) {
                held[i] = new AtomicBoolean();
            }
        }

        Consumer<Runnable> sender(int provider) {
            return answer -> {
                if (rotating.rotations() <= KILL_AFTER_ROTATIONS || !held[provider].compareAndSet(false, true)) {
                    answer.run();
                    return;
                }
                try {
                    allHeld.await(30, TimeUnit.SECONDS);
                    answer.run();
                    allSent.countDown();
                    if (allSent.await(30, TimeUnit.SECONDS) && killed.compareAndSet(false, true)) {
                        exitStatus = broker.kill();
                        done.countDown();
                    }
                }
                catch (InterruptedException | BrokenBarrierException | TimeoutException ex) {
                    failure = ex;
                    done.countDown();
                }
            };
        }
    }
}
