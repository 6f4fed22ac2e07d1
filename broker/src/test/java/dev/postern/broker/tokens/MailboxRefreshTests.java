package dev.postern.broker.tokens;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.accounts.AccountRepository.StoredAccessToken;
import dev.postern.broker.accounts.AccountRepository.StoredAccount;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.accounts.TestAccounts;
import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.apps.Credential;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenProviders;
import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.store.EmbeddedSecretStore;
import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.store.MasterKeys;
import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.testing.ForwardingStore;
import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The refresh of one mailbox on the embedded store: single flight, the lease in the account
 * document against another replica, the stored token, each provider refusal, and saves that meet a
 * concurrent write.
 */
class MailboxRefreshTests {

    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    static final String ACCOUNT = "acc_a";

    static final Duration MIN_TTL = Duration.ofMinutes(5);

    static final TokenProperties PROPERTIES = new TokenProperties(MIN_TTL, Duration.ofMinutes(10), Duration.ofMinutes(15),
            Duration.ofSeconds(20), Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofDays(30), 5,
            Duration.ofSeconds(30), Duration.ofHours(1), 4);

    @TempDir
    Path folder;

    private final MutableClock clock = new MutableClock(NOW);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private final FakeTokenProvider provider = new FakeTokenProvider(clock);

    private final List<Object> events = new CopyOnWriteArrayList<>();

    private EmbeddedSecretStore embedded;

    /** The accounts as the test (another writer) sees them: on the store, not counted. */
    private AccountRepository repository;

    /** Another replica on the same store. */
    private AccountService otherReplica;

    private MailboxRefresh refresh;

    private final RefreshDrain drain = new RefreshDrain();

    /** Set: the next write through this replica's store lands, but its answer is lost (Vault lost its leader). */
    private final AtomicBoolean loseNextAnswer = new AtomicBoolean();

    /** This replica's store: the embedded one, whose answers a test may lose. */
    private final class LosingStore extends ForwardingStore {

        LosingStore() {
            super(embedded);
        }

        @Override
        public long write(SecretPath path, SecretDocument document, long expectedVersion) {
            long version = backend.write(path, document, expectedVersion);
            if (loseNextAnswer.compareAndSet(true, false)) {
                throw new StoreUnavailableException("the answer to the write was lost");
            }
            return version;
        }
    }

    @BeforeEach
    void start() {
        embedded = new EmbeddedSecretStore(folder.resolve("store.bin"), MasterKeys.fromKeyFile(folder.resolve("master.key")));
        SecretStore store = new CountingSecretStore(new LosingStore(), meters);
        AuditLog audit = new AuditLog(store, clock, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        repository = TestAccounts.repository(embedded); // the test's own reads and writes are not counted
        AccountService accounts = TestAccounts.service(store, clock, audit, events::add);
        otherReplica = TestAccounts.service(embedded, clock, audit, event -> {
        });
        AppRepository apps = new AppRepository(new KeyDirectory(store));
        ProviderRefresh providerRefresh = new ProviderRefresh(new TokenProviders(List.of(provider)),
                new ProviderCircuits(clock, PROPERTIES), new TokenMetrics(meters), clock);
        refresh = new MailboxRefresh(accounts, apps, providerRefresh, new RefreshBackoffs(PROPERTIES, clock), new TokenCache(),
                drain, audit, clock, PROPERTIES);

        Credential credential = new Credential("cred_a", Credential.CredentialType.CLIENT_SECRET,
                Credential.CredentialState.ACTIVE, null, NOW, NOW.plus(Duration.ofDays(90)), null, NOW, null, null);
        apps.save(new AppRegistration("app_a", "app a", ProviderKind.GENERIC, null, "client-a", List.of("mail"),
                URI.create("https://idp.example.test/authorize"), URI.create("https://idp.example.test/token"), null, NOW,
                NOW, List.of(credential), List.of(), null, null), Map.of("cred_a", "secret-a"), SecretStore.NEW);
        // Connected an hour ago: its access token has just run out.
        Account account = new Account(ACCOUNT, "app_a", ProviderKind.GENERIC, "a@example.test", Account.Status.ACTIVE, "mail",
                NOW.minus(Duration.ofHours(1)), NOW.minus(Duration.ofHours(1)), null, null, null);
        repository.save(account, refreshToken("rt-0"), new StoredAccessToken("at-0", NOW, "mail"), SecretStore.NEW);
        drain.start();
    }

    @AfterEach
    void stop() {
        provider.release();
        refresh.stop();
        embedded.close();
    }

    private static MailboxState refreshToken(String value) {
        return new MailboxState(MailboxState.Kind.REFRESH_TOKEN, value);
    }

    private StoredAccount stored() {
        return repository.find(ACCOUNT).orElseThrow();
    }

    /** The owner connects the mailbox again: a new refresh token and access token stored over the current version. */
    private void ownerReconnects() {
        StoredAccount current = stored();
        repository.save(current.account(), refreshToken("rt-reconnected"),
                new StoredAccessToken("at-reconnected", NOW.plus(Duration.ofHours(1)), "mail"), current.version());
    }

    /** Store requests of this replica (not of {@link #otherReplica}) by operation, on the accounts collection. */
    private double accountRequests(String operation) {
        Counter counter = meters.find(CountingSecretStore.METRIC).tag("operation", operation).tag("collection", "accounts").counter();
        return counter == null ? 0 : counter.count();
    }

    private double storeReads() {
        return meters.find(CountingSecretStore.METRIC).tag("operation", "get").counters().stream().mapToDouble(Counter::count).sum();
    }

    /** Waits (at most 10 s) until this replica has read the account {@code reads} times in all. */
    private void awaitAccountReads(double reads) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (accountRequests("get") < reads) {
            assertThat(System.nanoTime()).as("account reads reached " + reads).isLessThan(giveUp);
            Thread.sleep(5);
        }
    }

    private ApiException problem(Duration minTtl) {
        ApiException problem = catchThrowableOfType(ApiException.class, () -> refresh.refresh(ACCOUNT, minTtl));
        assertThat(problem).as("the refresh failed").isNotNull();
        return problem;
    }

    private static ApiException problem(CompletableFuture<IssuedToken> refreshing) {
        ExecutionException failed = catchThrowableOfType(ExecutionException.class, () -> refreshing.get(10, TimeUnit.SECONDS));
        assertThat(failed).as("the refresh failed").isNotNull();
        assertThat(failed.getCause()).isInstanceOf(ApiException.class);
        return (ApiException) failed.getCause();
    }

    @Test
    void manyConcurrentCallersGetOneProviderCallAndOneToken() throws Exception {
        provider.hold();
        List<CompletableFuture<IssuedToken>> refreshes = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            callers.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                refreshes.add(refresh.refreshOnce(ACCOUNT, MIN_TTL));
            }));
        }
        go.countDown();
        for (Thread caller : callers) {
            caller.join();
        }
        provider.awaitCall();
        assertThat(refresh.inFlight(ACCOUNT)).isTrue();

        provider.release(); // every caller has joined the refresh by now

        assertThat(refreshes).hasSize(50);
        for (CompletableFuture<IssuedToken> one : refreshes) {
            assertThat(one.get(10, TimeUnit.SECONDS).accessToken()).isEqualTo("at-1");
        }
        assertThat(provider.calls()).isEqualTo(1);
        assertThat(accountRequests("write")).as("the lease and the save").isEqualTo(2);
        assertThat(stored().state()).isEqualTo(refreshToken("rt-1"));
        assertThat(stored().accessToken().value()).isEqualTo("at-1");
        assertThat(stored().refreshLease()).as("the save clears the lease").isNull();
        assertThat(refresh.inFlight(ACCOUNT)).isFalse();
    }

    @Test
    void aMissAfterThisReplicasOwnSaveReadsNothingAndWritesTwice() {
        assertThat(refresh.refresh(ACCOUNT, MIN_TTL).token().accessToken()).isEqualTo("at-1");
        clock.advance(Duration.ofHours(1));
        double readsBefore = storeReads();
        double writesBefore = accountRequests("write");

        assertThat(refresh.refresh(ACCOUNT, MIN_TTL).token().accessToken()).isEqualTo("at-2");

        assertThat(storeReads() - readsBefore).as("store reads").isZero();
        assertThat(accountRequests("write") - writesBefore).as("the lease and the save").isEqualTo(2);
        assertThat(stored().state()).isEqualTo(refreshToken("rt-2"));
        assertThat(events).filteredOn(AccountChangedEvent.class::isInstance).hasSize(2);
    }

    @Test
    void aLeaseHeldByAnotherReplicaIsWaitedForAndTheTokenItSavedIsUsed() throws Exception {
        StoredAccount leased = otherReplica.takeRefreshLease(otherReplica.read(ACCOUNT), "replica-b",
                NOW.plus(PROPERTIES.leaseDuration()));

        CompletableFuture<IssuedToken> waiting = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        awaitAccountReads(2); // found the lease, waited, read again
        assertThat(waiting).isNotDone();
        otherReplica.saveRefreshed(leased, leased.account().refreshed(clock.instant(), "mail"), refreshToken("rt-b"),
                new StoredAccessToken("at-b", NOW.plus(Duration.ofHours(1)), "mail"));

        assertThat(waiting.get(10, TimeUnit.SECONDS).accessToken()).isEqualTo("at-b");
        assertThat(provider.calls()).isZero();
        assertThat(stored().state()).isEqualTo(refreshToken("rt-b"));
    }

    @Test
    void aLeaseThatOutlastsTheWaitIsAnsweredRefreshInProgress() throws Exception {
        otherReplica.takeRefreshLease(otherReplica.read(ACCOUNT), "replica-b", NOW.plus(Duration.ofMinutes(1)));

        CompletableFuture<IssuedToken> waiting = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        awaitAccountReads(2);
        clock.advance(PROPERTIES.leaseDuration().plusSeconds(1));

        ApiException problem = problem(waiting);
        assertThat(problem.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(problem.type()).isEqualTo(ProblemTypes.REFRESH_IN_PROGRESS);
        assertThat(problem.headers()).containsKey("Retry-After");
        assertThat(provider.calls()).isZero();
        assertThat(stored().refreshLease().owner()).as("never taken over").isEqualTo("replica-b");
    }

    @Test
    void theStoredTokenIsUsedWhileItHasTheLifetimeAskedFor() {
        StoredAccount current = stored();
        repository.save(current.account(), current.state(), new StoredAccessToken("at-stored", NOW.plus(Duration.ofMinutes(30)),
                "mail"), current.version());

        assertThat(refresh.refresh(ACCOUNT, MIN_TTL).token().accessToken()).isEqualTo("at-stored");
        assertThat(provider.calls()).isZero();
        assertThat(accountRequests("write")).as("nothing written").isZero();

        assertThat(refresh.refresh(ACCOUNT, Duration.ofMinutes(30)).token().accessToken()).as("exactly its lifetime is not enough")
            .isEqualTo("at-1");
        assertThat(provider.calls()).isEqualTo(1);
    }

    @Test
    void reauthRequiredMarksTheAccountAndNoFurtherCallIsMade() {
        provider.refuse(ProviderException.Kind.REAUTH_REQUIRED);

        ApiException problem = problem(MIN_TTL);

        assertThat(problem.status()).isEqualTo(HttpStatus.CONFLICT);
        assertThat(problem.type()).isEqualTo(ProblemTypes.REAUTH_REQUIRED);
        assertThat(stored().account().status()).isEqualTo(Account.Status.REAUTH_REQUIRED);
        assertThat(stored().account().lastError().code()).isEqualTo("invalid_grant");
        assertThat(stored().state()).as("kept for the record").isEqualTo(refreshToken("rt-0"));
        assertThat(problem(MIN_TTL).type()).isEqualTo(ProblemTypes.REAUTH_REQUIRED);
        assertThat(provider.calls()).isEqualTo(1);
    }

    @Test
    void aRefusedRefreshTokenThatWasReplacedMeanwhileDoesNotMarkTheAccount() throws Exception {
        provider.refuse(ProviderException.Kind.REAUTH_REQUIRED);
        provider.hold();
        CompletableFuture<IssuedToken> refreshing = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall();
        // The owner connects the mailbox again while the old refresh token is being refused.
        ownerReconnects();
        provider.release();

        ApiException problem = problem(refreshing);

        assertThat(problem.type()).as("try again, not reconnect").isEqualTo(ProblemTypes.REFRESH_IN_PROGRESS);
        assertThat(stored().account().status()).isEqualTo(Account.Status.ACTIVE);
        assertThat(stored().state()).isEqualTo(refreshToken("rt-reconnected"));
        assertThat(refresh.refresh(ACCOUNT, MIN_TTL).token().accessToken()).isEqualTo("at-reconnected");
        assertThat(provider.calls()).isEqualTo(1);
    }

    @Test
    void retryLaterSetsABackoffDuringWhichTheProviderIsNotCalled() {
        provider.answer((call, client, state) -> {
            if (call == 1) {
                throw FakeTokenProvider.failure(ProviderException.Kind.RETRY_LATER, Duration.ofSeconds(30));
            }
            return provider.grant("at-" + call, Duration.ofHours(1), "rt-" + call);
        });

        ApiException first = problem(MIN_TTL);
        clock.advance(Duration.ofSeconds(10));
        ApiException waiting = problem(MIN_TTL);

        assertThat(first.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(first.type()).isEqualTo(ProblemTypes.PROVIDER_UNAVAILABLE);
        assertThat(first.headers()).containsEntry("Retry-After", "30");
        assertThat(waiting.headers()).containsEntry("Retry-After", "20");
        assertThat(provider.calls()).isEqualTo(1);
        assertThat(stored().account().status()).isEqualTo(Account.Status.ACTIVE);

        clock.advance(Duration.ofSeconds(20));
        assertThat(refresh.refresh(ACCOUNT, MIN_TTL).token().accessToken()).isEqualTo("at-2");
    }

    @Test
    void aRejectedClientIsRecordedAsTheLastErrorAndAnswered502() {
        provider.refuse(ProviderException.Kind.CLIENT_REJECTED);

        ApiException problem = problem(MIN_TTL);

        assertThat(problem.status()).isEqualTo(HttpStatus.BAD_GATEWAY);
        assertThat(problem.type()).isEqualTo(ProblemTypes.PROVIDER_REJECTED_CLIENT);
        assertThat(stored().account().status()).isEqualTo(Account.Status.ACTIVE);
        assertThat(stored().account().lastError().code()).isEqualTo("invalid_client");
        assertThat(stored().account().lastError().at()).isEqualTo(NOW);
    }

    @Test
    void aFailedRefreshIsRecordedAsTheLastErrorAndAnswered502() {
        provider.refuse(ProviderException.Kind.FAILED);

        ApiException problem = problem(MIN_TTL);

        assertThat(problem.status()).isEqualTo(HttpStatus.BAD_GATEWAY);
        assertThat(problem.type()).isEqualTo(ProblemTypes.PROVIDER_ERROR);
        assertThat(stored().account().status()).isEqualTo(Account.Status.ACTIVE);
        assertThat(stored().account().lastError().code()).isEqualTo("invalid_scope");
        assertThat(stored().state()).isEqualTo(refreshToken("rt-0"));
        assertThat(stored().refreshLease()).isNull();
    }

    @Test
    void theLeaseOfARefreshThatStoredNothingIsGivenBack() throws Exception {
        // RETRY_LATER records nothing on the account: only the give-back clears the lease.
        provider.refuse(ProviderException.Kind.RETRY_LATER);
        provider.hold();

        CompletableFuture<IssuedToken> refreshing = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall();
        assertThat(stored().refreshLease()).as("held during the call").isNotNull();
        provider.release();

        assertThat(problem(refreshing).type()).isEqualTo(ProblemTypes.PROVIDER_UNAVAILABLE);
        assertThat(stored().refreshLease()).as("given back: another replica need not wait for it").isNull();
        assertThat(stored().state()).isEqualTo(refreshToken("rt-0"));
    }

    @Test
    void aConflictOnlyInMetadataStillStoresTheRotatedRefreshToken() throws Exception {
        provider.hold();
        CompletableFuture<IssuedToken> refreshing = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall();
        // Another replica records an error on the account meanwhile: the same refresh token, a newer version.
        StoredAccount current = stored();
        repository.save(current.account().withStatus(Account.Status.ACTIVE,
                new Account.AccountError("other", "seen by replica b", NOW)), current.state(), current.accessToken(),
                current.version());
        provider.release();

        assertThat(refreshing.get(10, TimeUnit.SECONDS).accessToken()).isEqualTo("at-1");
        assertThat(stored().state()).isEqualTo(refreshToken("rt-1"));
        assertThat(stored().accessToken().value()).isEqualTo("at-1");
    }

    @Test
    void aNewerRefreshTokenStoredMeanwhileIsNeverOverwritten() throws Exception {
        provider.hold();
        CompletableFuture<IssuedToken> refreshing = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall();
        // The owner connects the mailbox again meanwhile: a new refresh token.
        ownerReconnects();
        provider.release();

        assertThat(refreshing.get(10, TimeUnit.SECONDS).accessToken()).as("still good to hand out").isEqualTo("at-1");
        assertThat(stored().state()).isEqualTo(refreshToken("rt-reconnected"));
    }

    @Test
    void aSaveWhoseAnswerWasLostIsFoundStoredAndTheTokenHandedOut() throws Exception {
        provider.hold();
        CompletableFuture<IssuedToken> refreshing = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall(); // the lease is written
        loseNextAnswer.set(true); // the save lands, its answer does not
        provider.release();

        assertThat(refreshing.get(10, TimeUnit.SECONDS).accessToken()).isEqualTo("at-1");
        assertThat(stored().state()).isEqualTo(refreshToken("rt-1"));
        assertThat(stored().accessToken().value()).isEqualTo("at-1");
        assertThat(accountRequests("write")).as("the lease, the save and its retry (a conflict)").isEqualTo(3);
        assertThat(provider.calls()).isEqualTo(1);
    }

    @Test
    void aMailboxRevokedDuringTheRefreshStaysRevokedAndGetsNoToken() throws Exception {
        provider.hold();
        CompletableFuture<IssuedToken> refreshing = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall();
        otherReplica.revoke("admin", ACCOUNT);
        provider.release();

        ApiException problem = problem(refreshing);

        assertThat(problem.status()).isEqualTo(HttpStatus.CONFLICT);
        assertThat(problem.type()).isEqualTo(ProblemTypes.ACCOUNT_REVOKED);
        assertThat(stored().account().status()).isEqualTo(Account.Status.REVOKED);
        assertThat(stored().state()).as("the rotated refresh token is not stored").isNull();
        assertThat(stored().accessToken()).isNull();
        assertThat(problem(MIN_TTL).type()).isEqualTo(ProblemTypes.ACCOUNT_REVOKED);
        assertThat(provider.calls()).isEqualTo(1);
    }

    @Test
    void whileShuttingDownANewRefreshIs503ButOneUnderWayIsJoinedAndStoredBeforeTheDrainEnds() throws Exception {
        Account other = stored().account();
        repository.save(new Account("acc_b", other.appId(), other.provider(), "b@example.test", Account.Status.ACTIVE, "mail",
                NOW, NOW, null, null, null), refreshToken("rt-b"), null, SecretStore.NEW);
        provider.hold();
        CompletableFuture<IssuedToken> underWay = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        provider.awaitCall();
        CountDownLatch drained = new CountDownLatch(1);

        drain.stop(drained::countDown);

        CompletableFuture<IssuedToken> joined = refresh.refreshOnce(ACCOUNT, MIN_TTL);
        ApiException refused = problem(refresh.refreshOnce("acc_b", MIN_TTL));
        assertThat(refused.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(refused.type()).isEqualTo(ProblemTypes.SHUTTING_DOWN);
        assertThat(refused.headers()).containsEntry("Retry-After", "1");
        assertThat(drained.getCount()).as("a refresh is under way").isEqualTo(1);

        provider.release();

        assertThat(drained.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(stored().state()).as("stored before the drain ended").isEqualTo(refreshToken("rt-1"));
        assertThat(underWay.get(10, TimeUnit.SECONDS).accessToken()).isEqualTo("at-1");
        assertThat(joined.get(10, TimeUnit.SECONDS).accessToken()).isEqualTo("at-1");
        assertThat(provider.calls()).isEqualTo(1);
    }
}
