package dev.postern.broker.reliability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.tokens.TokenSchedules;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keep-alive at scale in small: every mailbox of an app due at once, a slow provider. The
 * refreshes must arrive spread over {@code keep-alive-spread}, never more at once than
 * {@code background-refreshes-per-app}, and every mailbox must be refreshed.
 */
class KeepAlivePacingIntegrationTests {

    static final int MAILBOXES = 12;

    static final int CEILING = 2;

    static final Duration SPREAD = Duration.ofSeconds(3);

    /** Slower than the gap between two starts (SPREAD / MAILBOXES = 250 ms): without the ceiling, calls would pile up. */
    static final Duration PROVIDER_DELAY = Duration.ofMillis(900);

    private static TestBroker broker;

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @BeforeAll
    static void start() {
        broker = TestBroker.start(TestVault.shared(), "postern-keep-alive-" + UUID.randomUUID() + "/",
                Map.of("postern.tokens.keep-alive-after", "1s", "postern.tokens.keep-alive-spread", SPREAD.toMillis() + "ms",
                        "postern.tokens.background-refreshes-per-app", CEILING,
                        // Only this test starts a pass.
                        "postern.tokens.keep-alive-initial-delay", "1h"));
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @Test
    void dueMailboxesAreRefreshedSpreadOverTheWindowWithinTheCeilingPerApp() throws Exception {
        try (FakeTokenEndpoint endpoint = new FakeTokenEndpoint(idp)) {
            String app = broker.api.genericApp(idp.issuerUrl() + "/authorize", endpoint.url());
            List<String> accounts = new ArrayList<>();
            for (int i = 0; i < MAILBOXES; i++) {
                accounts.add(broker.api.connect(idp, TestIdentityProvider.ISSUER_ID, app,
                        "keep-alive-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test",
                        Duration.ofHours(1)));
            }
            Thread.sleep(1_500); // every mailbox now unrefreshed for longer than keep-alive-after
            endpoint.slowRefreshes(PROVIDER_DELAY);
            endpoint.forgetRefreshCalls();

            long started = System.nanoTime();
            broker.bean(TokenSchedules.class).keepAlive().get(60, java.util.concurrent.TimeUnit.SECONDS);
            long tookMillis = (System.nanoTime() - started) / 1_000_000;

            List<Long> arrivals = endpoint.refreshCallTimes();
            long firstToLast = (arrivals.getLast() - arrivals.getFirst()) / 1_000_000;
            System.out.printf("[keep-alive] %d due mailboxes, spread %d ms, ceiling %d: %d refreshes, first to last %d ms, "
                    + "most at once %d, pass %d ms%n", MAILBOXES, SPREAD.toMillis(), CEILING, arrivals.size(), firstToLast,
                    endpoint.mostRefreshesInFlight(), tookMillis);
            assertThat(arrivals).hasSize(MAILBOXES);
            assertThat(endpoint.mostRefreshesInFlight()).isBetween(1, CEILING);
            // 12 starts 250 ms apart: the last is at least 11 gaps after the first, not one burst.
            assertThat(firstToLast).isGreaterThanOrEqualTo(SPREAD.toMillis() * (MAILBOXES - 1) / MAILBOXES - 100);
            AccountService service = broker.bean(AccountService.class);
            for (String account : accounts) {
                assertThat(service.get(account).lastRefreshAt()).as(account).isAfter(service.get(account).connectedAt());
            }
        }
    }
}
