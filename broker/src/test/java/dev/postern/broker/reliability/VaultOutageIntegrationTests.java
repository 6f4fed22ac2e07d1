package dev.postern.broker.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vault stops answering for a minute (SIGSTOP of a dedicated OpenBao: connections are accepted
 * by the kernel but never answered, the worst case, and the in-memory dev server keeps its data).
 * Cached tokens keep being served, misses answer 503 store-unavailable quickly, health says DOWN,
 * and after SIGCONT everything resumes without a restart and without losing the refresh token
 * rotated just before the outage.
 */
class VaultOutageIntegrationTests {

    /** How long Vault stays stopped: the minute the reliability issue asks for. */
    static final Duration OUTAGE = Duration.ofSeconds(60);

    /** The broker's Vault read timeout in this test. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

    /**
     * What a request may take beyond the Vault reads it waits for. A miss waits for at most two
     * (spring-vault's session check and the account read), a cached token after a cache lapse
     * for two as well (the key and the account).
     */
    static final Duration MARGIN = Duration.ofSeconds(2);

    /** Concurrent misses while Vault is stopped: far more than a platform thread pool would survive. */
    static final int CONCURRENT_MISSES = 200;

    /** Tokens the provider issues here live 40 minutes, so min_ttl 3000 s forces a refresh and 300 s is a hit. */
    static final Duration TOKEN_LIFETIME = Duration.ofMinutes(40);

    static final int FORCE_REFRESH = 3000;

    static final int CACHED = 300;

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aMinuteWithoutVaultServesCachedTokensAnswersMissesWith503AndLosesNothing() throws Exception {
        try (TestVault vault = TestVault.dedicated();
                TestBroker broker = TestBroker.start(vault, "postern-outage-" + UUID.randomUUID() + "/",
                        Map.of("postern.store.vault.read-timeout", READ_TIMEOUT.toSeconds() + "s"))) {
            BrokerClient api = broker.api;
            String issuer = idp.issuerUrl();
            String app = api.genericApp(issuer + "/authorize", issuer + "/token");
            String clientKey = api.clientKey(app);
            List<String> accounts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                accounts.add(api.connect(idp, TestIdentityProvider.ISSUER_ID, app,
                        "outage-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test", TOKEN_LIFETIME));
            }
            // A rotation just before the outage: its refresh token must survive it.
            BrokerClient.Answer rotated = api.token(clientKey, accounts.getFirst(), FORCE_REFRESH);
            assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
            AccountRepository repository = broker.bean(AccountRepository.class);
            String refreshTokenBeforeOutage = repository.find(accounts.getFirst()).orElseThrow().state().value();
            Map<String, String> cachedTokens = new LinkedHashMap<>();
            for (String account : accounts) {
                BrokerClient.Answer warm = api.token(clientKey, account, CACHED);
                assertThat(warm.status()).as(warm.body()).isEqualTo(200);
                cachedTokens.put(account, warm.text("access_token"));
            }
            assertThat(api.call("GET", "/actuator/health", null, null).status()).isEqualTo(200);

            long pid = vault.process().pid();
            Signals.send("STOP", pid);
            long stoppedAt = System.nanoTime();
            try {
                // Misses, all at once, spread over the mailboxes.
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
                List<CompletableFuture<BrokerClient.Answer>> misses = new ArrayList<>();
                for (int i = 0; i < CONCURRENT_MISSES; i++) {
                    String account = accounts.get(i % accounts.size());
                    misses.add(CompletableFuture.supplyAsync(() -> api.token(clientKey, account, FORCE_REFRESH), clients));
                }
                Duration slowestMiss = Duration.ZERO;
                for (CompletableFuture<BrokerClient.Answer> miss : misses) {
                    BrokerClient.Answer answer = miss.get(60, TimeUnit.SECONDS);
                    assertThat(answer.status()).as(answer.body()).isEqualTo(503);
                    assertThat(answer.text("type")).endsWith("/store-unavailable");
                    assertThat(answer.header("Retry-After")).isNotBlank();
                    assertThat(answer.body()).doesNotContain(refreshTokenBeforeOutage).doesNotContain("Exception");
                    slowestMiss = answer.took().compareTo(slowestMiss) > 0 ? answer.took() : slowestMiss;
                }
                clients.shutdown();
                assertThat(slowestMiss).isLessThan(READ_TIMEOUT.multipliedBy(2).plus(MARGIN));

                BrokerClient.Answer health = api.call("GET", "/actuator/health", api.adminKey, null);
                assertThat(health.status()).isEqualTo(503);
                assertThat(health.json().path("components").path("store").path("status").asString()).isEqualTo("DOWN");

                // Cached tokens, over the whole outage: past every in-memory cache's freshness limit.
                int cachedServed = 0;
                int slowHits = 0;
                Duration slowestHit = Duration.ZERO;
                while (Duration.ofNanos(System.nanoTime() - stoppedAt).compareTo(OUTAGE) < 0) {
                    for (String account : accounts) {
                        BrokerClient.Answer hit = api.token(clientKey, account, CACHED);
                        assertThat(hit.status()).as("cached token %ss into the outage: %s",
                                Duration.ofNanos(System.nanoTime() - stoppedAt).toSeconds(), hit.body()).isEqualTo(200);
                        assertThat(hit.text("access_token")).isEqualTo(cachedTokens.get(account));
                        slowestHit = hit.took().compareTo(slowestHit) > 0 ? hit.took() : slowestHit;
                        slowHits += hit.took().compareTo(Duration.ofSeconds(1)) > 0 ? 1 : 0;
                        cachedServed++;
                    }
                    Thread.sleep(1000);
                }
                // When the in-memory key and account caches (30 s) lapse, one request per key or account
                // tries the store (up to two reads, each bounded by the read timeout), then the last
                // known value serves the next period from memory again.
                assertThat(slowestHit).isLessThan(READ_TIMEOUT.multipliedBy(2).plus(MARGIN));
                long cachePeriods = OUTAGE.toSeconds() / 30 + 1;
                assertThat(slowHits).isLessThanOrEqualTo((int) (accounts.size() * cachePeriods));
                System.out.printf("[vault-outage] %d concurrent misses: all 503 store-unavailable, slowest %d ms; "
                        + "%d cached tokens served over %d s, %d of them over 1 s, slowest %d ms%n", CONCURRENT_MISSES,
                        slowestMiss.toMillis(), cachedServed, OUTAGE.toSeconds(), slowHits, slowestHit.toMillis());
            }
            finally {
                Signals.send("CONT", pid);
            }
            long resumedAt = System.nanoTime();

            // Back without a restart: health, the refresh token from before the outage, refreshes.
            while (api.call("GET", "/actuator/health", null, null).status() != 200) {
                assertThat(Duration.ofNanos(System.nanoTime() - resumedAt)).isLessThan(Duration.ofSeconds(30));
                Thread.sleep(200);
            }
            assertThat(repository.find(accounts.getFirst()).orElseThrow().state().value()).isEqualTo(refreshTokenBeforeOutage);
            for (String account : accounts) {
                BrokerClient.Answer refreshed = api.token(clientKey, account, FORCE_REFRESH);
                assertThat(refreshed.status()).as(refreshed.body()).isEqualTo(200);
                assertThat(refreshed.text("access_token")).isNotEqualTo(cachedTokens.get(account));
            }
            assertThat(repository.find(accounts.getFirst()).orElseThrow().state().value()).isNotEqualTo(refreshTokenBeforeOutage);
            System.out.printf("[vault-outage] after SIGCONT: healthy and refreshing again in %d ms%n",
                    Duration.ofNanos(System.nanoTime() - resumedAt).toMillis());
        }
    }
}
