package dev.postern.broker.reliability;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVaultCluster;
import dev.postern.broker.testing.VaultLoadBalancer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vault as the distributed engine: a 3-node OpenBao cluster with integrated storage (Raft) behind a
 * load balancer that sends connections to live, unsealed nodes, two brokers on it under a steady
 * token load, and the active node killed with SIGKILL. Cached tokens keep flowing through the
 * election, misses answer 503 with Retry-After until a new leader is active and succeed again after,
 * a refresh whose provider answer arrives during the election is stored once the new leader is
 * there, and afterwards every mailbox refreshes on both brokers: no refresh token was lost.
 *
 * <p>SIGKILL rather than SIGSTOP: a crashed process (or a pod killed for memory) is the failure Raft
 * is there for, and the kernel then refuses connections to it, so what is measured is the election,
 * not client timeouts. A frozen server that accepts connections and never answers is the case of
 * {@link VaultOutageIntegrationTests}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RaftLeaderLossIntegrationTests {

    static final int MAILBOXES = 6;

    static final int CLIENTS_PER_BROKER = 2;

    /** Each client thread pauses this long between requests: a steady, not a saturating, load. */
    static final Duration PAUSE = Duration.ofMillis(50);

    /** One request in this many asks for more lifetime than any token has, forcing a refresh. */
    static final int EVERY_NTH_IS_A_MISS = 8;

    /** Tokens the provider issues here live 40 minutes, so min_ttl 3000 s forces a refresh and 300 s is a hit. */
    static final Duration TOKEN_LIFETIME = Duration.ofMinutes(40);

    static final int FORCE_REFRESH = 3000;

    static final int CACHED = 300;

    /** The brokers' Vault read timeout in this test. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

    /** Successful misses on each broker before the leader is killed: the load is running. */
    static final int MISSES_BEFORE_KILL = 5;

    /** How long after the kill a new leader must be active and both brokers refreshing again. */
    static final Duration RECOVERY_BOUND = Duration.ofSeconds(30);

    /** Load kept up after both brokers refresh again. */
    static final Duration AFTER_RECOVERY = Duration.ofSeconds(5);

    /** One answer the load got. Times are System.nanoTime(). */
    record Sample(int broker, boolean miss, long sentAt, long answeredAt, int status, String type, String retryAfter,
            Instant expiresAt) {

        long millis() {
            return (answeredAt - sentAt) / 1_000_000;
        }

        String outcome() {
            return status == 200 ? "200" : status + " " + type;
        }
    }

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Test
    void killingTheLeaderKeepsCachedTokensFlowingAndLosesNoRefreshToken() throws Exception {
        String prefix = "postern-raft-" + UUID.randomUUID() + "/";
        Map<String, Object> settings = Map.of("postern.store.vault.read-timeout", READ_TIMEOUT.toSeconds() + "s");
        String adminKey = TestBroker.newAdminKey();
        try (TestVaultCluster cluster = TestVaultCluster.start(3);
                VaultLoadBalancer balancer = VaultLoadBalancer.start(cluster.addresses());
                FakeTokenEndpoint endpoint = new FakeTokenEndpoint(idp);
                TestBroker first = TestBroker.start(balancer.address(), cluster.rootToken(), prefix, adminKey, settings);
                TestBroker second = TestBroker.start(balancer.address(), cluster.rootToken(), prefix, adminKey, settings)) {
            List<BrokerClient> brokers = List.of(first.api, second.api);
            String app = first.api.genericApp(idp.issuerUrl() + "/authorize", endpoint.url());
            String clientKey = first.api.clientKey(app);
            // Verifying the app's secret sends the provider a refresh it refuses; only the mailboxes' refreshes count.
            endpoint.forgetRefreshCalls();
            List<String> accounts = new ArrayList<>();
            for (int i = 0; i < MAILBOXES; i++) {
                accounts.add(first.api.connect(idp, TestIdentityProvider.ISSUER_ID, app,
                        "raft-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test", TOKEN_LIFETIME));
            }
            // Kept out of the load: its refresh is the one held across the kill.
            String heldAccount = first.api.connect(idp, TestIdentityProvider.ISSUER_ID, app,
                    "raft-held-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test", TOKEN_LIFETIME);
            for (BrokerClient broker : brokers) {
                for (String account : accounts) {
                    BrokerClient.Answer warm = broker.token(clientKey, account, CACHED);
                    assertThat(warm.status()).as(warm.body()).isEqualTo(200);
                }
            }

            ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
            Load load = new Load(brokers, clientKey, accounts, samples);
            load.start();
            TestVaultCluster.Node killed;
            TestVaultCluster.Node elected;
            long killedAt;
            long electedAt;
            CompletableFuture<BrokerClient.Answer> heldRefresh;
            AtomicLong heldAnsweredAt = new AtomicLong();
            try {
                awaitCondition("each broker refreshing under load", Duration.ofSeconds(60),
                        () -> IntStream.range(0, brokers.size()).allMatch(b -> successfulMisses(samples, b, 0) >= MISSES_BEFORE_KILL));

                // A refresh that the provider answers (rotating the refresh token) before the kill, and whose
                // answer reaches the broker after it: the broker must store it on the new leader.
                String heldRefreshToken = first.bean(AccountRepository.class).find(heldAccount).orElseThrow().state().value();
                FakeTokenEndpoint.HeldRefresh hold = endpoint.holdRefreshOf(heldRefreshToken);
                heldRefresh = CompletableFuture.supplyAsync(() -> {
                    BrokerClient.Answer answer = first.api.token(clientKey, heldAccount, FORCE_REFRESH);
                    heldAnsweredAt.set(System.nanoTime());
                    return answer;
                });
                assertThat(hold.awaitProviderAnswer(Duration.ofSeconds(20))).as("the held refresh reached the provider").isTrue();

                killed = cluster.leader().orElseThrow();
                killedAt = System.nanoTime();
                cluster.kill(killed);
                hold.release();

                elected = cluster.awaitLeader(RECOVERY_BOUND);
                electedAt = System.nanoTime();
                assertThat(elected).isNotSameAs(killed);
                awaitCondition("both brokers refreshing again", RECOVERY_BOUND,
                        () -> IntStream.range(0, brokers.size()).allMatch(b -> successfulMisses(samples, b, killedAt) > 0));
                long recoveredAt = System.nanoTime();
                while (System.nanoTime() - recoveredAt < AFTER_RECOVERY.toNanos()) {
                    Thread.sleep(100);
                }
            }
            finally {
                load.stop();
            }
            BrokerClient.Answer held = heldRefresh.get(60, TimeUnit.SECONDS);
            assertThat(held.status()).as("the refresh answered by the provider across the kill: %s", held.body()).isEqualTo(200);

            // Cached tokens: every one served, through the whole election.
            List<Sample> cached = samples.stream().filter(s -> !s.miss()).toList();
            assertThat(cached).allSatisfy(s -> {
                assertThat(s.status()).as("cached token on broker %d: %s", s.broker() + 1, s.outcome()).isEqualTo(200);
                assertThat(s.expiresAt()).isAfter(Instant.now().plusSeconds(CACHED - 60));
            });
            long cachedDuringElection = cached.stream().filter(s -> s.sentAt() >= killedAt && s.sentAt() <= electedAt).count();
            assertThat(cachedDuringElection).as("cached tokens asked for during the election").isPositive();
            long slowestCached = cached.stream().mapToLong(Sample::millis).max().orElse(0);

            // Misses: 200 before the kill; while there is no leader 503 with Retry-After (never a 500, never a hang);
            // 200 again once the broker refreshed again.
            List<Sample> misses = samples.stream().filter(Sample::miss).toList();
            assertThat(misses.stream().filter(s -> s.answeredAt() < killedAt))
                .allSatisfy(s -> assertThat(s.status()).as("miss before the kill: %s", s.outcome()).isEqualTo(200));
            assertThat(misses).allSatisfy(s -> {
                if (s.status() != 200) {
                    assertThat(s.status()).as(s.outcome()).isEqualTo(503);
                    assertThat(s.type()).as(s.outcome()).isIn("store-unavailable", "refresh-in-progress");
                    assertThat(s.retryAfter()).as("Retry-After of " + s.outcome()).isNotBlank();
                }
                assertThat(s.millis()).as("time to answer a miss").isLessThan(READ_TIMEOUT.multipliedBy(4).toMillis());
            });
            long[] recovery = new long[brokers.size()];
            for (int b = 0; b < brokers.size(); b++) {
                int broker = b;
                long firstSuccess = misses.stream()
                    .filter(s -> s.broker() == broker && s.sentAt() >= killedAt && s.status() == 200)
                    .mapToLong(Sample::answeredAt)
                    .min()
                    .orElseThrow();
                recovery[b] = (firstSuccess - killedAt) / 1_000_000;
                assertThat(misses.stream().filter(s -> s.broker() == broker && s.sentAt() > firstSuccess))
                    .allSatisfy(s -> assertThat(s.status()).as("miss on broker %d after it refreshed again: %s", broker + 1,
                            s.outcome()).isEqualTo(200));
            }
            Map<String, Long> failedMisses = misses.stream()
                .filter(s -> s.status() != 200)
                .collect(Collectors.groupingBy(Sample::outcome, TreeMap::new, Collectors.counting()));
            long lastFailure = misses.stream().filter(s -> s.status() != 200).mapToLong(Sample::answeredAt).max().orElse(killedAt);

            // No refresh token lost: every mailbox, the held one too, refreshes on each broker, one by one.
            List<String> everyAccount = new ArrayList<>(accounts);
            everyAccount.add(heldAccount);
            for (String account : everyAccount) {
                for (BrokerClient broker : brokers) {
                    BrokerClient.Answer refreshed = broker.token(clientKey, account, FORCE_REFRESH);
                    assertThat(refreshed.status()).as("refresh of %s after the election: %s", account, refreshed.body())
                        .isEqualTo(200);
                }
            }
            JsonNode listed = first.api.call("GET", "/v1/accounts?limit=500", first.api.adminKey, null).json().path("items");
            Set<String> statuses = new TreeSet<>();
            listed.forEach(account -> statuses.add(account.path("status").asString()));
            assertThat(statuses).containsExactly("active");
            assertThat(endpoint.refreshAnswers()).as("provider answers to refreshes").containsOnly(200);

            // The killed node, started again on its data, catches up and is a standby again.
            long restartedAt = System.nanoTime();
            cluster.restart(killed);
            awaitCondition(killed + " to be an unsealed standby again", RECOVERY_BOUND,
                    () -> TestVaultCluster.healthStatus(killed) == 429);
            long rejoinedMillis = (System.nanoTime() - restartedAt) / 1_000_000;

            System.out.printf("[raft] 3-node OpenBao Raft cluster behind a health-checked load balancer, 2 brokers, "
                    + "%d client threads; SIGKILL of the leader %s: %s active after %d ms; brokers refreshing again after "
                    + "%d / %d ms; cached tokens: %d served, 0 failed, %d during the election, slowest %d ms; misses: %d, "
                    + "failed %s, the last %d ms after the kill; the refresh answered across the kill stored and handed "
                    + "out %d ms after the kill; "
                    + "afterwards %d mailboxes refreshed on both brokers, %d provider refreshes, none refused; "
                    + "balancer connections per node %s; %s restarted and a standby again after %d ms%n",
                    brokers.size() * CLIENTS_PER_BROKER, killed.id(), elected.id(), (electedAt - killedAt) / 1_000_000,
                    recovery[0], recovery[1], cached.size(), cachedDuringElection, slowestCached, misses.size(),
                    failedMisses.isEmpty() ? "none" : failedMisses, (lastFailure - killedAt) / 1_000_000,
                    (heldAnsweredAt.get() - killedAt) / 1_000_000,
                    everyAccount.size(), endpoint.refreshAnswers().size(), balancer.connectionsPerNode().values(), killed.id(),
                    rejoinedMillis);
        }
    }

    private static long successfulMisses(ConcurrentLinkedQueue<Sample> samples, int broker, long sentAfter) {
        return samples.stream().filter(s -> s.broker() == broker && s.miss() && s.status() == 200 && s.sentAt() >= sentAfter)
            .count();
    }

    private static void awaitCondition(String what, Duration timeout, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Client threads asking each broker for tokens, mostly cached, every n-th forcing a refresh. */
    private static final class Load {

        private final List<BrokerClient> brokers;

        private final String clientKey;

        private final List<String> accounts;

        private final ConcurrentLinkedQueue<Sample> samples;

        private final List<Thread> threads = new ArrayList<>();

        private volatile boolean stopped;

        Load(List<BrokerClient> brokers, String clientKey, List<String> accounts, ConcurrentLinkedQueue<Sample> samples) {
            this.brokers = brokers;
            this.clientKey = clientKey;
            this.accounts = accounts;
            this.samples = samples;
        }

        void start() {
            for (int b = 0; b < brokers.size(); b++) {
                for (int c = 0; c < CLIENTS_PER_BROKER; c++) {
                    int broker = b;
                    int offset = c * accounts.size() / CLIENTS_PER_BROKER + b;
                    threads.add(Thread.ofPlatform().name("raft-load-" + b + "-" + c).start(() -> run(broker, offset)));
                }
            }
        }

        private void run(int broker, int offset) {
            BrokerClient api = brokers.get(broker);
            for (int i = offset; !stopped; i++) {
                String account = accounts.get(i % accounts.size());
                boolean miss = i % EVERY_NTH_IS_A_MISS == 0;
                long sent = System.nanoTime();
                BrokerClient.Answer answer = api.token(clientKey, account, miss ? FORCE_REFRESH : CACHED);
                String type = answer.text("type");
                samples.add(new Sample(broker, miss, sent, System.nanoTime(), answer.status(),
                        type.substring(type.lastIndexOf('/') + 1), answer.header("Retry-After"),
                        answer.status() == 200 ? Instant.parse(answer.text("expires_at")) : null));
                try {
                    Thread.sleep(PAUSE);
                }
                catch (InterruptedException ex) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            stopped = true;
            for (Thread thread : threads) {
                thread.join(Duration.ofSeconds(30));
            }
        }
    }
}
