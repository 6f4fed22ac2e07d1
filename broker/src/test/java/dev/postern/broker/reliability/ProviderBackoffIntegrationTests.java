package dev.postern.broker.reliability;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backoff after 5xx answers and timeouts of a provider token endpoint. A real HTTP endpoint on
 * 127.0.0.1 records when each mailbox's refresh reaches it while two clients per mailbox keep
 * asking for tokens; the broker logs the wait it chose after each failed call. The test checks
 * each logged wait exactly against its configured window (half the ceiling up to the ceiling, the
 * ceiling doubling up to the cap), that the waits differ between mailboxes (jitter), and that each
 * logged wait is what really happened: the next call came no earlier, and requests were refused
 * until about then, each a 503 problem with Retry-After. A provider that never answers holds no
 * request beyond the provider timeout.
 *
 * <p>The circuit breaker is set out of the way (a threshold no run reaches) so that every call is
 * the backoff's decision; the circuit is tested in {@link ProviderFaultIntegrationTests}.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ProviderBackoffIntegrationTests {

    /** {@code postern.tokens.initial-backoff}: the ceiling after a mailbox's first failure. */
    static final Duration INITIAL_BACKOFF = Duration.ofMillis(500);

    /** {@code postern.tokens.max-backoff}: ceilings 0.5, 1, 2, 4, 4, 4 s after failures 1 to 6. */
    static final Duration MAX_BACKOFF = Duration.ofSeconds(4);

    /**
     * {@code postern.providers.timeout}. Each call in the timeout test costs this much, and setting
     * up (verifying the app's secret, connecting the mailboxes) goes through the same timeout, so
     * the provider is warmed up first: cold, on a loaded machine, it took 3.4 s for one answer.
     */
    static final Duration PROVIDER_TIMEOUT = Duration.ofSeconds(2);

    static final int MAILBOXES = 8;

    static final int CLIENTS_PER_MAILBOX = 2;

    /** Each client's pause between two requests. */
    static final Duration POLL = Duration.ofMillis(100);

    /** Failed calls per mailbox: six waits, the last three at the cap, five of them followed by a call. */
    static final int CALLS = 6;

    /**
     * How far the waits of the 8 mailboxes after the same failure must at least spread, as a share
     * of that failure's window [ceiling / 2, ceiling). Each wait is uniform on its window,
     * independently per mailbox. The range R of n uniform draws on a window of length L has
     * P(R ≤ rL) = n·r^(n-1) − (n-1)·r^n: for n = 8 and r = 0.05, 6e-9 per failure, 4e-8 for the six
     * of a run. Without jitter every mailbox waits the same after the same failure: R = 0.
     */
    static final double MIN_SPREAD_PER_FAILURE = 0.05;

    /**
     * How far all 48 waits of a run must spread across their windows, each placed at its share of
     * its window: 48 uniform draws stay within half the window with P = 48·0.5^47 − 47·0.5^48 ≈ 2e-13;
     * a fixed wait (any fixed share of the ceiling) has spread 0.
     */
    static final double MIN_SPREAD_OVERALL = 0.5;

    /**
     * How long after the provider timeout the broker may log that it gave a call up: the timer, the
     * exception and the log line, on a machine shared with other builds.
     */
    static final Duration GIVE_UP_MARGIN = Duration.ofSeconds(1);

    /**
     * What a token request waiting on a call that times out may take beyond the timeout: the store
     * reads and writes around the call (a lease, the account), seen at up to 2.2 s on a machine with
     * a load average of 20. Without a provider timeout the request would wait 40 s (twice the lease
     * duration) and end as 503 refresh-timeout.
     */
    static final Duration REQUEST_MARGIN = Duration.ofSeconds(5);

    /** Bound on one measuring run: six timeouts and the waits (at most 11.5 s) with room for a loaded machine. */
    static final Duration RUN_DEADLINE = Duration.ofSeconds(60);

    /** Once the provider is healthy, every mailbox's last wait (at most the cap) ends within this. */
    static final Duration RECOVERY = MAX_BACKOFF.plusSeconds(2);

    static final Duration TOKEN_LIFETIME = Duration.ofMinutes(40);

    static final int FORCE_REFRESH = 3000;

    /** The broker's line for each wait it chose (RefreshBackoffs.failed). */
    static final String BACKOFF_LINE = "Account {}: identity provider call failed ({}), {} in a row; no call for {}";

    private static TestBroker broker;

    private static final ListAppender<ILoggingEvent> brokerLog = new ListAppender<>();

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @BeforeAll
    static void start() {
        broker = TestBroker.start(TestVault.shared(), "postern-idp-backoff-" + UUID.randomUUID() + "/",
                Map.of("postern.tokens.initial-backoff", INITIAL_BACKOFF.toMillis() + "ms",
                        "postern.tokens.max-backoff", MAX_BACKOFF.toMillis() + "ms",
                        "postern.providers.timeout", PROVIDER_TIMEOUT.toMillis() + "ms",
                        "postern.tokens.circuit-failure-threshold", 1_000_000));
        // After the start: Spring Boot sets logging up anew when the application starts.
        brokerLog.start();
        ((Logger) LoggerFactory.getLogger("dev.postern.broker.tokens.RefreshBackoffs")).addAppender(brokerLog);
    }

    @AfterAll
    static void stop() {
        ((Logger) LoggerFactory.getLogger("dev.postern.broker.tokens.RefreshBackoffs")).detachAppender(brokerLog);
        broker.close();
    }

    @Test
    void serverErrorsAreRetriedPerMailboxWithJitteredExponentialBackoff() throws Exception {
        try (FakeTokenEndpoint endpoint = new FakeTokenEndpoint(idp)) {
            Setup setup = connect(endpoint);
            endpoint.fail(500, null);
            endpoint.forgetRefreshCalls();

            Measured measured = measure(endpoint, setup, "idp-500", false);

            measured.print();
            assertBackoffAsConfigured(measured, "temporarily_unavailable");
            assertRecovers(endpoint, setup);
        }
    }

    @Test
    void timeoutsAreRetriedWithJitteredExponentialBackoffAndHoldNoRequestBeyondTheTimeout() throws Exception {
        try (FakeTokenEndpoint endpoint = new FakeTokenEndpoint(idp)) {
            Setup setup = connect(endpoint);
            endpoint.hang();
            endpoint.forgetRefreshCalls();

            Measured measured = measure(endpoint, setup, "idp-timeout", true);

            measured.print();
            assertBackoffAsConfigured(measured, "timeout");
            for (Wait wait : measured.waits()) {
                assertThat(wait.gaveUpAfter()).as("%s: call %d given up after it reached the endpoint", wait.mailbox(),
                        wait.failures()).isLessThanOrEqualTo(PROVIDER_TIMEOUT.plus(GIVE_UP_MARGIN));
            }
            assertThat(measured.slowestAnswer()).as("the slowest token request while the provider does not answer")
                .isLessThanOrEqualTo(PROVIDER_TIMEOUT.plus(REQUEST_MARGIN));
            assertRecovers(endpoint, setup);
        }
    }

    /** One mailbox: its account and its refresh token, which stays the same while every refresh fails. */
    private record Mailbox(String account, String refreshToken) {

        @Override
        public String toString() {
            return "Mailbox[" + account + "]";
        }
    }

    private record Setup(String clientKey, List<Mailbox> mailboxes) {
    }

    /** One token request: when it was sent and answered (System.nanoTime()) and the answer. */
    private record ClientAnswer(long sent, long answered, int status, String type, String retryAfter, String body) {

        Duration took() {
            return Duration.ofNanos(answered - sent);
        }
    }

    /**
     * The wait the broker logged after the {@code failures}-th failed call of a mailbox, with the
     * {@code error} it logged and how long after the call reached the endpoint it logged that
     * ({@code gaveUpAfter}). When a call followed it: {@code spacing} from the failed call to the
     * next at the endpoint, and the bracket [{@code low}, {@code high}) that the wait must lie in
     * by what the endpoint and the clients saw (see {@link #bracket}); else these are null.
     */
    private record Wait(Mailbox mailbox, int failures, String error, Duration logged, Duration gaveUpAfter,
            Duration ceiling, Duration low, Duration high, Duration spacing) {

        /** Where in its window [ceiling / 2, ceiling) the wait fell, from 0 to 1. */
        double share() {
            Duration half = ceiling.dividedBy(2);
            return (double) logged.minus(half).toNanos() / half.toNanos();
        }
    }

    private record Measured(String label, List<Wait> waits, List<ClientAnswer> answers) {

        Duration slowestAnswer() {
            return answers.stream().map(ClientAnswer::took).max(Comparator.naturalOrder()).orElseThrow();
        }

        List<Wait> afterFailure(int failures) {
            return waits.stream().filter(wait -> wait.failures() == failures).toList();
        }

        void print() {
            StringBuilder out = new StringBuilder();
            out.append(String.format("[%s] %d mailboxes x %d failed calls, %d token requests (%d answered 503), slowest %d ms; "
                    + "each failure logged %d..%d ms after its call reached the endpoint%n", label, MAILBOXES, CALLS, answers.size(),
                    answers.stream().filter(answer -> answer.status() == 503).count(), slowestAnswer().toMillis(),
                    waits.stream().mapToLong(wait -> wait.gaveUpAfter().toMillis()).min().orElseThrow(),
                    waits.stream().mapToLong(wait -> wait.gaveUpAfter().toMillis()).max().orElseThrow()));
            for (int failures = 1; failures <= CALLS; failures++) {
                List<Wait> atStep = afterFailure(failures);
                List<Long> logged = atStep.stream().map(wait -> wait.logged().toMillis()).sorted().toList();
                out.append(String.format("[%s] after failure %d (ceiling %d ms): waits %s ms", label, failures,
                        atStep.getFirst().ceiling().toMillis(), logged));
                List<Long> spacings = atStep.stream().filter(wait -> wait.spacing() != null)
                    .map(wait -> wait.spacing().toMillis()).sorted().toList();
                if (!spacings.isEmpty()) {
                    long widest = atStep.stream().mapToLong(wait -> wait.high().minus(wait.low()).toMillis()).max().orElseThrow();
                    out.append(String.format("; call to next call %d..%d ms (median %d); observed brackets up to %d ms wide",
                            spacings.getFirst(), spacings.getLast(), spacings.get(spacings.size() / 2), widest));
                }
                out.append(String.format("%n"));
            }
            System.out.print(out);
        }
    }

    private Setup connect(FakeTokenEndpoint endpoint) throws Exception {
        Duration warm = endpoint.warmUp(PROVIDER_TIMEOUT.dividedBy(4), Duration.ofSeconds(60));
        System.out.printf("[idp-backoff] provider warm: a grant answered in %d ms%n", warm.toMillis());
        String app = broker.api.genericApp(idp.issuerUrl() + "/authorize", endpoint.url());
        AccountRepository accounts = broker.bean(AccountRepository.class);
        List<Mailbox> mailboxes = new ArrayList<>();
        for (int i = 0; i < MAILBOXES; i++) {
            String account = broker.api.connect(idp, TestIdentityProvider.ISSUER_ID, app,
                    "idp-backoff-" + i + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test", TOKEN_LIFETIME);
            mailboxes.add(new Mailbox(account, accounts.find(account).orElseThrow().state().value()));
        }
        return new Setup(broker.api.clientKey(app), mailboxes);
    }

    /**
     * Two clients per mailbox ask for a token every {@link #POLL} until the endpoint has seen
     * {@link #CALLS} refreshes of that mailbox; then pairs each failed call with the wait the broker
     * logged for it and brackets that wait.
     */
    private Measured measure(FakeTokenEndpoint endpoint, Setup setup, String label, boolean timeouts) throws Exception {
        long deadline = System.nanoTime() + RUN_DEADLINE.toNanos();
        Map<Mailbox, List<ClientAnswer>> answers = new LinkedHashMap<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> running = new ArrayList<>();
            for (Mailbox mailbox : setup.mailboxes()) {
                List<ClientAnswer> log = new CopyOnWriteArrayList<>();
                answers.put(mailbox, log);
                for (int client = 0; client < CLIENTS_PER_MAILBOX; client++) {
                    running.add(clients.submit(() -> {
                        while (endpoint.refreshCallTimes(mailbox.refreshToken()).size() < CALLS && System.nanoTime() < deadline) {
                            long sent = System.nanoTime();
                            BrokerClient.Answer answer = broker.api.token(setup.clientKey(), mailbox.account(), FORCE_REFRESH);
                            log.add(new ClientAnswer(sent, System.nanoTime(), answer.status(), answer.text("type"),
                                    answer.header("Retry-After"), answer.body()));
                            Thread.sleep(POLL.toMillis());
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> client : running) {
                client.get();
            }
        }
        List<Wait> waits = new ArrayList<>();
        List<ClientAnswer> all = new ArrayList<>();
        answers.forEach((mailbox, log) -> {
            all.addAll(log);
            List<Long> calls = endpoint.refreshCallTimes(mailbox.refreshToken());
            assertThat(calls).as("refreshes of %s within %s (none beyond those the clients waited for)", mailbox, RUN_DEADLINE)
                .hasSize(CALLS);
            List<ILoggingEvent> logged = loggedWaits(mailbox);
            assertThat(logged).as("waits the broker logged for %s, one per failed call", mailbox).hasSize(CALLS);
            for (int failed = 0; failed < CALLS; failed++) {
                Object[] line = logged.get(failed).getArgumentArray();
                assertThat(line[2]).as("failures in a row").isEqualTo(failed + 1);
                Duration gaveUpAfter = Duration.ofNanos(nanoTime(logged.get(failed).getInstant()) - calls.get(failed));
                Wait wait = new Wait(mailbox, failed + 1, (String) line[1], (Duration) line[3], gaveUpAfter, ceiling(failed + 1),
                        null, null, null);
                waits.add(failed + 1 < CALLS ? bracket(wait, calls.get(failed), calls.get(failed + 1), log, timeouts) : wait);
            }
        });
        return new Measured(label, waits, all);
    }

    /** The broker's backoff lines for {@code mailbox}; their arguments: account, error, failures in a row, wait. */
    private static List<ILoggingEvent> loggedWaits(Mailbox mailbox) {
        synchronized (brokerLog) {
            return brokerLog.list.stream()
                .filter(event -> BACKOFF_LINE.equals(event.getMessage()) && mailbox.account().equals(event.getArgumentArray()[0]))
                .toList();
        }
    }

    /**
     * A log event's wall-clock time on the System.nanoTime() scale of the endpoint's records. The
     * two clocks drift apart by at most NTP's slew (0.5 ms a second) over a run.
     */
    private static long nanoTime(Instant wallClock) {
        Instant now = Instant.now();
        long nanoNow = System.nanoTime();
        return nanoNow - Duration.between(wallClock, now).toNanos();
    }

    /**
     * Brackets the wait after a failed call that reached the endpoint at {@code failedAt}, from what
     * the endpoint and the clients saw, whatever the delays in between. The broker starts the wait
     * when the call has failed and refuses requests until it is over; so:
     * <ul>
     * <li>the call failed no earlier than it arrived, and for a timeout no earlier than the provider
     * timeout after the first request waiting on it was sent (the broker started the call after that);
     * <li>it failed no later than the last request waiting on it was answered;
     * <li>the wait was not over when the last request refused before the next call was sent, and
     * it was over when the next call arrived.
     * </ul>
     * The low end therefore lies below the wait and the high end at or above it.
     */
    private static Wait bracket(Wait wait, long failedAt, long nextAt, List<ClientAnswer> log, boolean timeouts) {
        List<ClientAnswer> waitingOnCall = log.stream().filter(a -> a.sent() <= failedAt && a.answered() >= failedAt).toList();
        assertThat(waitingOnCall).as("requests of %s waiting on its call %d", wait.mailbox(), wait.failures()).isNotEmpty();
        long failedNoEarlierThan = timeouts
                ? waitingOnCall.stream().mapToLong(ClientAnswer::sent).min().orElseThrow() + PROVIDER_TIMEOUT.toNanos()
                : failedAt;
        long failedNoLaterThan = waitingOnCall.stream().mapToLong(ClientAnswer::answered).max().orElseThrow();
        long lastRefusedSent = log.stream().filter(a -> a.answered() < nextAt).mapToLong(ClientAnswer::sent).max().orElseThrow();
        return new Wait(wait.mailbox(), wait.failures(), wait.error(), wait.logged(), wait.gaveUpAfter(), wait.ceiling(),
                Duration.ofNanos(lastRefusedSent - failedNoLaterThan), Duration.ofNanos(nextAt - failedNoEarlierThan),
                Duration.ofNanos(nextAt - failedAt));
    }

    /** The configured ceiling after the {@code failures}-th failure in a row, computed here independently of the broker. */
    private static Duration ceiling(int failures) {
        Duration ceiling = INITIAL_BACKOFF.multipliedBy(1L << (failures - 1));
        return ceiling.compareTo(MAX_BACKOFF) < 0 ? ceiling : MAX_BACKOFF;
    }

    private static void assertBackoffAsConfigured(Measured measured, String error) {
        for (ClientAnswer answer : measured.answers()) {
            assertThat(answer.status()).as(answer.body()).isEqualTo(503);
            assertThat(answer.type()).as(answer.body()).endsWith("/provider-unavailable");
            assertThat(answer.retryAfter()).as("Retry-After of " + answer.body()).matches("[1-9][0-9]*");
            assertThat(Long.parseLong(answer.retryAfter())).as("Retry-After in whole seconds, rounded up")
                .isLessThanOrEqualTo((MAX_BACKOFF.toMillis() + 999) / 1000);
        }
        for (Wait wait : measured.waits()) {
            assertThat(wait.error()).as("the failure the broker logged").isEqualTo(error);
            // The window: the ceilings double up to the cap (0.5, 1, 2, 4, 4, 4 s), so the waits grow.
            assertThat(wait.logged()).as("wait of %s after failure %d", wait.mailbox(), wait.failures())
                .isGreaterThanOrEqualTo(wait.ceiling().dividedBy(2))
                .isLessThan(wait.ceiling());
            if (wait.spacing() != null) {
                assertThat(wait.high()).as("%s called again before its wait %s after failure %d was over", wait.mailbox(),
                        wait.logged(), wait.failures()).isGreaterThanOrEqualTo(wait.logged());
                assertThat(wait.low()).as("%s still refused after its wait %s after failure %d", wait.mailbox(), wait.logged(),
                        wait.failures()).isLessThan(wait.logged());
            }
        }
        for (int failures = 1; failures <= CALLS; failures++) {
            List<Double> shares = measured.afterFailure(failures).stream().map(Wait::share).toList();
            assertThat(spread(shares)).as("spread of the mailboxes' waits after failure %d, as a share of its window", failures)
                .isGreaterThanOrEqualTo(MIN_SPREAD_PER_FAILURE);
        }
        double overall = spread(measured.waits().stream().map(Wait::share).toList());
        System.out.printf("[%s] jitter: the %d waits spread over %.2f of their windows%n", measured.label(),
                measured.waits().size(), overall);
        assertThat(overall).as("spread of all waits, each as a share of its window").isGreaterThanOrEqualTo(MIN_SPREAD_OVERALL);
    }

    private static double spread(List<Double> shares) {
        return shares.stream().mapToDouble(Double::doubleValue).max().orElseThrow()
                - shares.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    /** Once the provider answers again, every mailbox gets a token as soon as its last wait (at most the cap) is over. */
    private void assertRecovers(FakeTokenEndpoint endpoint, Setup setup) throws InterruptedException {
        endpoint.healthy();
        long deadline = System.nanoTime() + RECOVERY.toNanos();
        List<Mailbox> waiting = new ArrayList<>(setup.mailboxes());
        while (!waiting.isEmpty() && System.nanoTime() < deadline) {
            for (Mailbox mailbox : List.copyOf(waiting)) {
                BrokerClient.Answer answer = broker.api.token(setup.clientKey(), mailbox.account(), FORCE_REFRESH);
                if (answer.status() == 200) {
                    waiting.remove(mailbox);
                }
                else {
                    assertThat(answer.status()).as(answer.body()).isEqualTo(503);
                }
            }
            Thread.sleep(POLL.toMillis());
        }
        assertThat(waiting).as("mailboxes still refused %s after the provider answered again", RECOVERY).isEmpty();
    }
}
