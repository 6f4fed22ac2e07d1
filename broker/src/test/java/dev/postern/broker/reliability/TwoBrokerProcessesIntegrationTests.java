package dev.postern.broker.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.reliability.RotatingRefreshTokens.Redemption;
import dev.postern.broker.reliability.RotatingRefreshTokens.Rotation;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two broker processes on one Vault prefix, as two replicas: misses for one mailbox at both refresh it
 * exactly once at the provider (the refresh lease in the store), and every caller of a mailbox gets the
 * same token; also when one replica learns Vault's answers late. The provider rotates refresh tokens
 * strictly, so a second refresh with the same token would also revoke the mailbox's grant.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TwoBrokerProcessesIntegrationTests {

    /** Enough mailboxes that both brokers race for many leases at once, few enough to connect in seconds. */
    static final int MAILBOXES = 50;

    /** Per mailbox: five requests at each broker. */
    static final int REQUESTS_PER_MAILBOX = 10;

    /** The tokens from connecting live one minute, less than {@link #MIN_TTL}: the first request of each mailbox is a miss. */
    static final Duration CONNECT_TOKEN_LIFETIME = Duration.ofMinutes(1);

    /** A refreshed token lives an hour: enough for every request that waited for the refresh. */
    static final Duration REFRESHED_TOKEN_LIFETIME = Duration.ofHours(1);

    static final int MIN_TTL = 300;

    /** How late broker B learns each of Vault's answers in the slow-link test: longer than a whole refresh at A. */
    static final Duration SLOW_VAULT_ANSWERS = Duration.ofMillis(1500);

    private static final TestIdentityProvider idp = TestIdentityProvider.shared();

    private static final RotatingRefreshTokens refreshTokens = new RotatingRefreshTokens(Rotation.REUSE_REVOKES_THE_GRANT);

    private static FakeTokenEndpoint endpoint;

    /** Broker B's way to Vault, slow on demand. */
    private static SlowLink vaultLinkOfB;

    private static BrokerProcess a;

    private static BrokerProcess b;

    private static String app;

    private static String clientKey;

    @BeforeAll
    static void startTwoBrokers() throws Exception {
        TestVault vault = TestVault.shared();
        String prefix = "postern-two-brokers-" + UUID.randomUUID() + "/";
        String adminKey = TestBroker.newAdminKey();
        endpoint = FakeTokenEndpoint.issuingRefreshTokens(idp, refreshTokens, REFRESHED_TOKEN_LIFETIME);
        vaultLinkOfB = new SlowLink(vault.address());
        // Both at once: a start is most of this class's time on a loaded machine.
        CompletableFuture<BrokerProcess> startingB = CompletableFuture.supplyAsync(() -> BrokerProcess.start("two-brokers-b",
                vault, prefix, adminKey, Map.of("postern.store.vault.uri", vaultLinkOfB.url())));
        try {
            a = BrokerProcess.start("two-brokers-a", vault, prefix, adminKey, Map.of());
        }
        finally {
            b = startingB.get(BrokerProcess.START_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS);
        }
        app = a.api.genericApp(idp.issuerUrl() + "/authorize", endpoint.url());
        clientKey = a.api.clientKey(app);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable closeable : new AutoCloseable[] { a, b, vaultLinkOfB, endpoint }) {
            if (closeable != null) {
                closeable.close();
            }
        }
    }

    private static Map<String, String> connect(String name, int mailboxes) {
        List<String> names = IntStream.range(0, mailboxes)
            .mapToObj(i -> name + "-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test")
            .toList();
        return a.api.connectAll(idp, TestIdentityProvider.ISSUER_ID, app, names, CONNECT_TOKEN_LIFETIME);
    }

    @Test
    void fiveHundredConcurrentMissesOverTwoBrokersRefreshEachMailboxOnce() throws Exception {
        Map<String, String> connected = connect("two-brokers", MAILBOXES);
        List<String> mailboxes = List.copyOf(connected.keySet());
        List<String> accounts = List.copyOf(connected.values());

        // Request j of a mailbox goes to broker j % 2; all wait for one signal.
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        List<CompletableFuture<BrokerClient.Answer>> answers = new ArrayList<>();
        for (int i = 0; i < MAILBOXES * REQUESTS_PER_MAILBOX; i++) {
            String account = accounts.get(i % MAILBOXES);
            BrokerClient api = (i / MAILBOXES) % 2 == 0 ? a.api : b.api;
            answers.add(CompletableFuture.supplyAsync(() -> {
                awaitQuietly(go);
                return api.token(clientKey, account, MIN_TTL);
            }, clients));
        }
        long released = System.nanoTime();
        go.countDown();
        List<BrokerClient.Answer> results = new ArrayList<>();
        for (CompletableFuture<BrokerClient.Answer> answer : answers) {
            results.add(answer.get(90, TimeUnit.SECONDS));
        }
        long allAnsweredMillis = (System.nanoTime() - released) / 1_000_000;
        clients.shutdown();

        // Everything measured first, so a failure shows the whole picture.
        Map<Integer, Long> statuses = results.stream()
            .collect(Collectors.groupingBy(BrokerClient.Answer::status, TreeMap::new, Collectors.counting()));
        Map<Integer, Long> mailboxesByRefreshes = mailboxes.stream()
            .collect(Collectors.groupingBy(mailbox -> refreshTokens.redemptions(mailbox).size(), TreeMap::new,
                    Collectors.counting()));
        long slowest = results.stream().mapToLong(answer -> answer.took().toMillis()).max().orElseThrow();
        System.out.printf("[single flight] two broker processes on one Vault: %d concurrent misses (%d mailboxes x %d, "
                + "alternating brokers) -> statuses %s; mailboxes by refreshes at the provider %s; all answered in %d ms, "
                + "slowest %d ms%n", results.size(), MAILBOXES, REQUESTS_PER_MAILBOX, statuses, mailboxesByRefreshes,
                allAnsweredMillis, slowest);

        for (int i = 0; i < results.size(); i++) {
            assertThat(results.get(i).status()).as("request %d: %s", i, results.get(i).body()).isEqualTo(200);
        }
        for (int m = 0; m < MAILBOXES; m++) {
            int mailbox = m;
            Set<String> tokens = IntStream.range(0, REQUESTS_PER_MAILBOX)
                .mapToObj(j -> results.get(j * MAILBOXES + mailbox).text("access_token"))
                .collect(Collectors.toSet());
            assertThat(tokens).as("tokens handed out for %s", mailboxes.get(m)).hasSize(1);
            assertThat(refreshTokens.redemptions(mailboxes.get(m))).as("refreshes of %s at the provider", mailboxes.get(m))
                .containsExactly(new Redemption(0, true));
        }
    }

    /**
     * Broker B reads a mailbox before A's refresh stored its rotated token, and asks for the lease after A gave
     * it back: it must not refresh again with the token it read, which the provider already rotated.
     */
    @Test
    void aReplicaThatLearnsVaultsAnswersLateUsesTheTokenTheOtherRefreshed() throws Exception {
        Map<String, String> connected = connect("slow-link", 10);
        for (String account : connected.values()) {
            // B reads each account once now (min_ttl 0: the token from connecting does), so its requests below
            // find the account in memory and go straight to the store read that races with A's refresh.
            BrokerClient.Answer warm = b.api.token(clientKey, account, 0);
            assertThat(warm.status()).as(warm.body()).isEqualTo(200);
        }
        vaultLinkOfB.delayAnswers(SLOW_VAULT_ANSWERS);
        List<BrokerClient.Answer> atA = new ArrayList<>();
        List<BrokerClient.Answer> atB = new ArrayList<>();
        try {
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
            List<CompletableFuture<BrokerClient.Answer>> fromA = new ArrayList<>();
            List<CompletableFuture<BrokerClient.Answer>> fromB = new ArrayList<>();
            for (String account : connected.values()) {
                fromA.add(CompletableFuture.supplyAsync(() -> {
                    awaitQuietly(go);
                    return a.api.token(clientKey, account, MIN_TTL);
                }, clients));
                fromB.add(CompletableFuture.supplyAsync(() -> {
                    awaitQuietly(go);
                    return b.api.token(clientKey, account, MIN_TTL);
                }, clients));
            }
            go.countDown();
            for (int i = 0; i < fromA.size(); i++) {
                atA.add(fromA.get(i).get(90, TimeUnit.SECONDS));
                atB.add(fromB.get(i).get(90, TimeUnit.SECONDS));
            }
            clients.shutdown();
        }
        finally {
            vaultLinkOfB.delayAnswers(Duration.ZERO);
        }
        List<String> mailboxes = List.copyOf(connected.keySet());
        Map<Integer, Long> mailboxesByRefreshes = mailboxes.stream()
            .collect(Collectors.groupingBy(mailbox -> refreshTokens.redemptions(mailbox).size(), TreeMap::new,
                    Collectors.counting()));
        System.out.printf("[single flight] broker B learning Vault's answers %d ms late: statuses at A %s, at B %s; "
                + "mailboxes by refreshes at the provider %s%n", SLOW_VAULT_ANSWERS.toMillis(),
                atA.stream().map(BrokerClient.Answer::status).toList(), atB.stream().map(BrokerClient.Answer::status).toList(),
                mailboxesByRefreshes);
        for (int i = 0; i < mailboxes.size(); i++) {
            assertThat(atA.get(i).status()).as(atA.get(i).body()).isEqualTo(200);
            assertThat(atB.get(i).status()).as(atB.get(i).body()).isEqualTo(200);
            assertThat(atB.get(i).text("access_token")).isEqualTo(atA.get(i).text("access_token"));
            assertThat(refreshTokens.redemptions(mailboxes.get(i))).as("refreshes of %s at the provider", mailboxes.get(i))
                .containsExactly(new Redemption(0, true));
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }
}
