package dev.postern.broker.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Identity provider faults at a fake token endpoint in front of the test provider: 429 with
 * Retry-After is honoured to the second, and a failing endpoint opens its circuit across
 * mailboxes, then closes after one successful trial call.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ProviderFaultIntegrationTests {

    static final int CIRCUIT_THRESHOLD = 3;

    static final Duration CIRCUIT_COOL_DOWN = Duration.ofSeconds(4);

    static final Duration TOKEN_LIFETIME = Duration.ofMinutes(40);

    static final int FORCE_REFRESH = 3000;

    private static TestBroker broker;

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @BeforeAll
    static void start() {
        broker = TestBroker.start(TestVault.shared(), "postern-idp-faults-" + UUID.randomUUID() + "/",
                Map.of("postern.tokens.circuit-failure-threshold", CIRCUIT_THRESHOLD,
                        "postern.tokens.circuit-cool-down", CIRCUIT_COOL_DOWN.toMillis() + "ms"));
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private record Setup(String clientKey, List<String> accounts) {
    }

    private Setup connect(FakeTokenEndpoint endpoint, int mailboxes) {
        String app = broker.api.genericApp(idp.issuerUrl() + "/authorize", endpoint.url());
        List<String> accounts = new ArrayList<>();
        for (int i = 0; i < mailboxes; i++) {
            accounts.add(broker.api.connect(idp, TestIdentityProvider.ISSUER_ID, app,
                    "idp-fault-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test", TOKEN_LIFETIME));
        }
        return new Setup(broker.api.clientKey(app), accounts);
    }

    @Test
    void tooManyRequestsWithRetryAfterMeansNoCallBeforeThoseSeconds() throws Exception {
        try (FakeTokenEndpoint endpoint = new FakeTokenEndpoint(idp)) {
            Setup setup = connect(endpoint, 1);
            String account = setup.accounts().getFirst();
            endpoint.fail(429, "3");
            // Only the calls made under the 429 regime count (setting up also calls the endpoint).
            endpoint.forgetRefreshCalls();

            BrokerClient.Answer first = broker.api.token(setup.clientKey(), account, FORCE_REFRESH);
            assertThat(first.status()).as(first.body()).isEqualTo(503);
            assertThat(first.text("type")).endsWith("/provider-unavailable");
            assertThat(first.header("Retry-After")).isEqualTo("3");
            long until = System.nanoTime() + Duration.ofMillis(4500).toNanos();
            while (System.nanoTime() < until) {
                BrokerClient.Answer again = broker.api.token(setup.clientKey(), account, FORCE_REFRESH);
                assertThat(again.status()).as(again.body()).isEqualTo(503);
                assertThat(again.header("Retry-After")).isNotBlank();
                Thread.sleep(100);
            }
            List<Long> calls = endpoint.refreshCallTimes();
            assertThat(calls).hasSizeGreaterThanOrEqualTo(2);
            long gapMillis = (calls.get(1) - calls.get(0)) / 1_000_000;
            assertThat(gapMillis).isGreaterThanOrEqualTo(3000);
            System.out.printf("[idp-429] Retry-After: 3 -> %d provider calls in 4.5 s of requests every 100 ms, "
                    + "first gap %d ms%n", calls.size(), gapMillis);

            endpoint.healthy();
            Thread.sleep(3100);
            BrokerClient.Answer recovered = broker.api.token(setup.clientKey(), account, FORCE_REFRESH);
            assertThat(recovered.status()).as(recovered.body()).isEqualTo(200);
        }
    }

    @Test
    void aFailingEndpointOpensItsCircuitAcrossMailboxesThenOneTrialClosesIt() throws Exception {
        try (FakeTokenEndpoint endpoint = new FakeTokenEndpoint(idp)) {
            Setup setup = connect(endpoint, CIRCUIT_THRESHOLD);
            endpoint.fail(500, null);
            endpoint.forgetRefreshCalls();

            for (String account : setup.accounts()) {
                BrokerClient.Answer failed = broker.api.token(setup.clientKey(), account, FORCE_REFRESH);
                assertThat(failed.status()).as(failed.body()).isEqualTo(503);
                assertThat(failed.text("type")).endsWith("/provider-unavailable");
            }
            long openedAt = System.nanoTime();
            assertThat(endpoint.refreshCallTimes()).hasSize(CIRCUIT_THRESHOLD);

            // Past every mailbox's own backoff (at most 1 s after one failure), inside the cool-down.
            Thread.sleep(1500);
            for (String account : setup.accounts()) {
                BrokerClient.Answer refused = broker.api.token(setup.clientKey(), account, FORCE_REFRESH);
                assertThat(refused.status()).as(refused.body()).isEqualTo(503);
                assertThat(refused.text("type")).endsWith("/provider-unavailable");
                assertThat(refused.header("Retry-After")).isNotBlank();
            }
            assertThat(endpoint.refreshCallTimes()).as("no call while the circuit is open").hasSize(CIRCUIT_THRESHOLD);

            endpoint.healthy();
            while (System.nanoTime() - openedAt < CIRCUIT_COOL_DOWN.plusMillis(200).toNanos()) {
                Thread.sleep(50);
            }
            BrokerClient.Answer trial = broker.api.token(setup.clientKey(), setup.accounts().getFirst(), FORCE_REFRESH);
            assertThat(trial.status()).as(trial.body()).isEqualTo(200);
            for (String account : setup.accounts().subList(1, CIRCUIT_THRESHOLD)) {
                BrokerClient.Answer closed = broker.api.token(setup.clientKey(), account, FORCE_REFRESH);
                assertThat(closed.status()).as(closed.body()).isEqualTo(200);
            }
            assertThat(endpoint.refreshCallTimes()).hasSize(2 * CIRCUIT_THRESHOLD);
            System.out.printf("[idp-circuit] %d failures opened the circuit; %d requests refused without a call; "
                    + "trial after %d ms closed it%n", CIRCUIT_THRESHOLD, CIRCUIT_THRESHOLD,
                    (System.nanoTime() - openedAt) / 1_000_000);
        }
    }
}
