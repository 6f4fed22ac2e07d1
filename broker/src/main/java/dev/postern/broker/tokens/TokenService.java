package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.http.HttpStatus;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.access.ApiPrincipal;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.accounts.AccountRepository.StoredAccessToken;
import dev.postern.broker.accounts.AccountRepository.StoredAccount;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.apps.AppService;
import dev.postern.broker.apps.Credential;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.providers.TokenProviders;
import dev.postern.broker.store.DocumentIntegrityException;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.store.VersionConflictException;

/**
 * Issues access tokens for mailboxes. A token with enough time left is served from memory. A
 * miss refreshes once however many callers ask at once: one in-flight refresh per mailbox in
 * this process, and one lease in the store across replicas, whose holder stores the new access
 * token next to the rotated refresh token so the others use it instead of refreshing again. The
 * rotated refresh token is written with CAS before the access token is handed out. Tokens in
 * use are refreshed ahead of expiry in the background.
 */
@Service
public class TokenService {

    private static final Logger log = LoggerFactory.getLogger(TokenService.class);

    private static final Map<String, String> CACHE_SOURCE = Map.of("source", "cache");

    private final AccountRepository accounts;

    private final AppRepository apps;

    private final TokenProviders providers;

    private final RefreshLeases leases;

    private final RefreshDrain drain;

    private final ProviderCircuits circuits;

    private final AuditLog audit;

    private final Clock clock;

    private final TokenProperties properties;

    private final MeterRegistry meters;

    private final Timer refreshTimer;

    private final Cache<String, CachedToken> tokens;

    private final Cache<String, Account> accountMetadata = Caffeine.newBuilder()
        .expireAfterWrite(Duration.ofSeconds(30))
        .maximumSize(100_000)
        .build();

    /**
     * Accounts read within {@link #STALE_IF_STORE_DOWN}, used only while the store cannot be
     * read, so a Vault outage does not stop tokens that are still in memory from being served.
     */
    private final Cache<String, Account> lastKnownAccounts = Caffeine.newBuilder()
        .expireAfterWrite(STALE_IF_STORE_DOWN)
        .maximumSize(100_000)
        .build();

    /** How old an account read may be and still be trusted while the store is unavailable. */
    static final Duration STALE_IF_STORE_DOWN = Duration.ofMinutes(15);

    private final ConcurrentHashMap<String, CompletableFuture<IssuedToken>> inFlight = new ConcurrentHashMap<>();

    private final ConcurrentHashMap<String, Backoff> backoffs = new ConcurrentHashMap<>();

    private final ConcurrentHashMap<String, Counter> requestCounters = new ConcurrentHashMap<>();

    private final JitteredBackoff backoffPolicy;

    private final ExecutorService refreshers = Executors.newVirtualThreadPerTaskExecutor();

    /** A token in memory and when it was last handed out. */
    private static final class CachedToken {

        final IssuedToken token;

        final Instant receivedAt;

        volatile Instant lastUsed;

        CachedToken(IssuedToken token, Instant receivedAt) {
            this.token = token;
            this.receivedAt = receivedAt;
            this.lastUsed = receivedAt;
        }

        /** How long before expiry to refresh: the configured time, or a third of a short token's life. */
        Duration refreshWindow(Duration refreshAhead) {
            Duration third = Duration.between(receivedAt, token.expiresAt()).dividedBy(3);
            return third.compareTo(refreshAhead) < 0 ? third : refreshAhead;
        }
    }

    /** No provider call for this mailbox before {@code notBefore}; {@code failures} grows the wait. */
    private record Backoff(Instant notBefore, int failures) {
    }

    public TokenService(AccountRepository accounts, AppRepository apps, TokenProviders providers, RefreshLeases leases,
            RefreshDrain drain, ProviderCircuits circuits, AuditLog audit, Clock clock, TokenProperties properties,
            MeterRegistry meters) {
        this.drain = drain;
        this.circuits = circuits;
        this.accounts = accounts;
        this.apps = apps;
        this.providers = providers;
        this.leases = leases;
        this.audit = audit;
        this.clock = clock;
        this.properties = properties;
        this.meters = meters;
        this.refreshTimer = Timer.builder("postern_token_refresh_seconds")
            .description("Time to refresh a mailbox's access token at its identity provider")
            .publishPercentiles(0.5, 0.99)
            .register(meters);
        this.tokens = Caffeine.newBuilder().maximumSize(100_000).build();
        this.backoffPolicy = new JitteredBackoff(properties.initialBackoff(), properties.maxBackoff());
    }

    /**
     * An access token for {@code accountId} with at least {@code minTtl} left, for a caller
     * allowed to use that mailbox.
     */
    public IssuedToken issue(ApiPrincipal caller, String accountId, Duration minTtl) {
        Account account = account(accountId);
        if (!caller.mayUseAccount(account.id(), account.appId())) {
            count("denied");
            audit.record(caller.clientId(), "token.issue", "account", accountId, "denied", Map.of());
            throw ApiException.forbidden("This API client may not get tokens for this mailbox.");
        }
        requireUsable(account);
        Instant now = clock.instant();
        CachedToken cached = tokens.getIfPresent(accountId);
        if (cached != null && cached.token.expiresAt().isAfter(now.plus(minTtl))) {
            cached.lastUsed = now;
            count("cache");
            // Counted, not one event per request: a client may fetch its cached token thousands of times a second.
            audit.recordRepeated(caller.clientId(), "token.issue", "account", accountId, "success", CACHE_SOURCE);
            return cached.token;
        }
        try {
            IssuedToken token = await(refreshOnce(accountId, minTtl));
            count("refresh");
            audit.record(caller.clientId(), "token.issue", "account", accountId, "success", Map.of("source", "refresh"));
            return token;
        }
        catch (ApiException ex) {
            count("error");
            audit.record(caller.clientId(), "token.issue", "account", accountId, "failure", Map.of("problem", ex.type()));
            throw ex;
        }
    }

    /** The account {@code accountId} of a mailbox, through a short in-memory cache. */
    public Account account(String accountId) {
        Account account;
        try {
            account = accountMetadata.get(accountId, id -> {
                Account read = accounts.find(id).map(StoredAccount::account).orElse(null);
                if (read != null) {
                    lastKnownAccounts.put(id, read);
                }
                return read;
            });
        }
        catch (StoreUnavailableException ex) {
            // Nobody can change an account while the store is down; the last read serves cached tokens.
            account = lastKnownAccounts.getIfPresent(accountId);
            if (account == null) {
                throw ex;
            }
            // Back for one cache period: one request per account and period waits for the store, not every one.
            accountMetadata.put(accountId, account);
        }
        if (account == null) {
            throw ApiException.notFound("Account " + accountId);
        }
        return account;
    }

    private static void requireUsable(Account account) {
        switch (account.status()) {
            case REVOKED -> throw ApiException.conflict("account-revoked", "This mailbox was revoked; connect it again.");
            case REAUTH_REQUIRED -> throw ApiException.conflict("reauth-required",
                    "The mailbox owner must connect this mailbox again: the provider no longer accepts its refresh token.");
            case ACTIVE -> {
            }
        }
    }

    private void count(String outcome) {
        // Looked up once per outcome: this runs on every token request, a cached one included.
        requestCounters.computeIfAbsent(outcome, o -> meters.counter("postern_token_requests_total", "outcome", o))
            .increment();
    }

    /** Joins the refresh in flight for {@code accountId}, or starts the one. */
    private CompletableFuture<IssuedToken> refreshOnce(String accountId, Duration minTtl) {
        CompletableFuture<IssuedToken> mine = new CompletableFuture<>();
        CompletableFuture<IssuedToken> running = inFlight.putIfAbsent(accountId, mine);
        if (running != null) {
            // Joining a refresh under way is allowed while shutting down: it finishes before the process exits.
            return running;
        }
        if (!drain.tryStart()) {
            inFlight.remove(accountId, mine);
            mine.completeExceptionally(unavailable("shutting-down",
                    "This broker is shutting down; another replica, or this one once restarted, serves the token.", 1));
            return mine;
        }
        try {
            refreshers.execute(() -> {
                try {
                    answer(accountId, mine, refresh(accountId, minTtl, mine));
            }
                catch (Throwable ex) {
                    inFlight.remove(accountId, mine);
                    mine.completeExceptionally(ex);
                }
                finally {
                    // After the save and the lease's release: the drain waits for both.
                    drain.finished();
                }
            });
        }
        catch (RejectedExecutionException closed) {
            drain.finished();
            inFlight.remove(accountId, mine);
            mine.completeExceptionally(closed);
        }
        return mine;
    }

    /**
     * Hands {@code token} to the requests waiting on {@code refresh}. It leaves the in-flight map
     * first: a request that comes after the answer (possibly asking for more lifetime than this
     * token has) starts a refresh of its own instead of joining a finished one.
     */
    private void answer(String accountId, CompletableFuture<IssuedToken> refresh, IssuedToken token) {
        inFlight.remove(accountId, refresh);
        refresh.complete(token);
    }

    private IssuedToken await(CompletableFuture<IssuedToken> refresh) {
        try {
            return refresh.get(properties.leaseDuration().toMillis() * 2, TimeUnit.MILLISECONDS);
        }
        catch (ExecutionException ex) {
            if (ex.getCause() instanceof ApiException api) {
                throw api;
            }
            if (ex.getCause() instanceof StoreUnavailableException unavailable) {
                // An expected outage, not a bug: 503 store-unavailable with Retry-After, no stack trace.
                throw unavailable;
            }
            if (ex.getCause() instanceof DocumentIntegrityException refused) {
                // Already logged by the store with the path; 500 store-integrity, no stack trace.
                throw refused;
            }
            log.error("Token refresh failed", ex.getCause());
            throw new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, "internal-error", "Internal error",
                    "The token could not be refreshed; the request id leads to the log entry.");
        }
        catch (TimeoutException ex) {
            throw unavailable("refresh-timeout", "The token refresh did not finish in time; try again.", 5);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw unavailable("refresh-timeout", "Interrupted.", 5);
        }
    }

    /**
     * The cross-replica part: take the lease and refresh, or use a token another replica stored.
     * {@code refresh} is answered as soon as the token is known, so that the waiting requests go on
     * while the lease is given back.
     */
    private IssuedToken refresh(String accountId, Duration minTtl, CompletableFuture<IssuedToken> refresh) {
        Instant deadline = clock.instant().plus(properties.leaseDuration());
        // The account and its app are read while the lease is taken, each store call being on the
        // path of a miss. The early account read is used only when no other replica can have
        // refreshed since this process did (see RefreshLeases.Acquired); otherwise the account is
        // read again under the lease: a refresh token read before taking it may be one that another
        // replica has just rotated, which a provider with strict rotation would refuse.
        String appId = account(accountId).appId();
        CompletableFuture<Optional<AppRepository.StoredApp>> app = CompletableFuture.supplyAsync(() -> apps.find(appId),
                refreshers);
        CompletableFuture<Optional<StoredAccount>> early = CompletableFuture.supplyAsync(() -> accounts.find(accountId),
                refreshers);
        while (true) {
            // Computed before the lease is written, so it ends no later than the lease in the store.
            Instant leaseEnds = clock.instant().plus(properties.leaseDuration());
            RefreshLeases.Acquired lease = leases.tryAcquire(accountId);
            if (lease != RefreshLeases.Acquired.NO) {
                try {
                    StoredAccount stored = usable(lease == RefreshLeases.Acquired.YES_UNCHANGED_SINCE_OURS && early != null
                            ? joined(early) : accounts.find(accountId), accountId);
                    IssuedToken token = storedToken(stored, minTtl);
                    if (token == null) {
                        requireNoBackoff(accountId);
                        token = refreshAtProvider(stored, joined(app)
                            .orElseThrow(() -> ApiException.conflict("app-missing", "The app of this mailbox no longer exists.")),
                                leaseEnds);
                    }
                    answer(accountId, refresh, token);
                    return token;
                }
                finally {
                    releaseLease(accountId);
                }
            }
            early = null;
            requireNoBackoff(accountId);
            // Another replica is refreshing: wait until it lets go (only the small lease document is read
            // meanwhile, not the account), then take the lease, under which the token it stored is found.
            while (leases.heldByAnother(accountId)) {
                if (clock.instant().isAfter(deadline)) {
                    throw unavailable("refresh-in-progress", "Another replica is refreshing this mailbox; try again.", 2);
                }
                sleep(100);
            }
        }
    }

    /**
     * Gives the lease back. When the store cannot take that, the refresh's outcome still stands
     * (its token is stored, or the failure says why not) and the lease runs out by itself after
     * {@code lease-duration}; an exception thrown here would replace a successful refresh with a
     * 503. Found by RaftLeaderLossIntegrationTests: a Vault leader election between the save and
     * the release.
     */
    private void releaseLease(String accountId) {
        try {
            leases.release(accountId);
        }
        catch (StoreUnavailableException ex) {
            log.info("Could not give back the refresh lease of account {}; it runs out by itself: {}", accountId,
                    ex.getMessage());
        }
    }

    /** The value of a store read made on another thread, with its exception as thrown there. */
    private static <T> T joined(CompletableFuture<T> read) {
        try {
            return read.join();
        }
        catch (CompletionException ex) {
            if (ex.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw ex;
        }
    }

    private static StoredAccount usable(Optional<StoredAccount> found, String accountId) {
        StoredAccount stored = found.orElseThrow(() -> ApiException.notFound("Account " + accountId));
        requireUsable(stored.account());
        return stored;
    }

    /** The access token stored with the account (by any replica) when it has {@code minTtl} left, else null. */
    private @Nullable IssuedToken storedToken(StoredAccount stored, Duration minTtl) {
        StoredAccessToken latest = stored.accessToken();
        if (latest != null && latest.expiresAt().isAfter(clock.instant().plus(minTtl))) {
            return remember(stored.account(), latest.value(), latest.expiresAt(), latest.scope());
        }
        return null;
    }

    private void requireNoBackoff(String accountId) {
        Instant now = clock.instant();
        Backoff backoff = backoffs.get(accountId);
        if (backoff != null && backoff.notBefore().isAfter(now)) {
            throw providerUnavailable(Duration.between(now, backoff.notBefore()));
        }
    }

    private IssuedToken refreshAtProvider(StoredAccount stored, AppRepository.StoredApp app, Instant leaseEnds) {
        Account account = stored.account();
        if (stored.state() == null) {
            throw ApiException.conflict("reauth-required", "This mailbox has no refresh token; connect it again.");
        }
        String endpoint = app.app().provider().name().toLowerCase(java.util.Locale.ROOT) + " "
                + (app.app().tokenEndpoint() != null ? app.app().tokenEndpoint() : String.valueOf(app.app().tenant()));
        ProviderException lastClientRejection = null;
        for (Credential credential : usableCredentials(app)) {
            Duration open = circuits.refuse(endpoint);
            if (open != null) {
                count("circuit-open");
                throw providerUnavailable(open);
            }
            Timer.Sample sample = Timer.start(meters);
            try {
                TokenGrant grant;
                try {
                    grant = providers.forKind(app.app().provider())
                        .refresh(AppService.providerClient(app.app(), credential, app.secrets()), stored.state());
                }
                catch (ProviderException ex) {
                    if (ex.kind() == ProviderException.Kind.RETRY_LATER) {
                        circuits.failed(endpoint);
                    }
                    else {
                        circuits.answered(endpoint);
                    }
                    throw ex;
                }
                catch (RuntimeException ex) {
                    circuits.abandoned(endpoint);
                    throw ex;
                }
                circuits.answered(endpoint);
                sample.stop(refreshTimer);
                backoffs.remove(account.id());
                return save(stored, grant, leaseEnds);
            }
            catch (ProviderException ex) {
                sample.stop(refreshTimer);
                meters.counter("postern_idp_errors_total", "provider", app.app().provider().name().toLowerCase(java.util.Locale.ROOT),
                        "error", ex.error()).increment();
                switch (ex.kind()) {
                    case CLIENT_REJECTED -> lastClientRejection = ex; // try the next usable credential
                    case REAUTH_REQUIRED -> throw reauthRequired(stored, ex);
                    case RETRY_LATER -> throw providerUnavailable(backOff(account.id(), ex));
                    case FAILED -> {
                        recordError(account.id(), ex);
                        throw new ApiException(HttpStatus.BAD_GATEWAY, "provider-error", "Identity provider error",
                                "The identity provider refused the refresh (" + ex.error() + ").");
                    }
                }
            }
        }
        if (lastClientRejection != null) {
            recordError(account.id(), lastClientRejection);
            throw new ApiException(HttpStatus.BAD_GATEWAY, "provider-rejected-client", "App credential rejected",
                    "The identity provider rejected the app's credentials (" + lastClientRejection.error()
                            + "): rotate the app's client secret or certificate.");
        }
        throw ApiException.conflict("no-active-credential", "The app of this mailbox has no usable credential.");
    }

    /** The active credential first, then retired ones that have not expired: rotation never breaks a mailbox. */
    private List<Credential> usableCredentials(AppRepository.StoredApp app) {
        Instant now = clock.instant();
        List<Credential> usable = new ArrayList<>();
        app.app().activeCredential().filter(c -> c.isUnexpiredAt(now)).ifPresent(usable::add);
        app.app()
            .credentials()
            .stream()
            .filter(c -> c.state() == Credential.CredentialState.RETIRED && c.isUnexpiredAt(now))
            .sorted(Comparator.comparing(Credential::retiredAt, Comparator.nullsLast(Comparator.reverseOrder())))
            .forEach(usable::add);
        return usable;
    }

    /**
     * Stores the rotated refresh token and the new access token, then remembers and returns it.
     * While the store is unavailable it tries again until {@code leaseEnds}.
     */
    private IssuedToken save(StoredAccount stored, TokenGrant grant, Instant leaseEnds) {
        String accountId = stored.account().id();
        StoredAccessToken token = new StoredAccessToken(grant.accessToken(), grant.expiresAt(), grant.scope());
        StoredAccount current = stored;
        for (int attempt = 0;; attempt++) {
            Account refreshed = current.account().refreshed(clock.instant(), grant.scope());
            StoredAccount base = current;
            try {
                whileLeaseLasts(leaseEnds, accountId,
                        () -> accounts.save(refreshed, grant.mailboxState(), token, base.version()));
                return remember(refreshed, grant.accessToken(), grant.expiresAt(), grant.scope());
            }
            catch (VersionConflictException ex) {
                current = whileLeaseLasts(leaseEnds, accountId, () -> accounts.find(accountId))
                    .orElseThrow(() -> ApiException.notFound("Account"));
                if (Objects.equals(current.state(), grant.mailboxState())) {
                    // Our own write landed but its answer was lost (Vault lost its leader meanwhile).
                    return remember(current.account(), grant.accessToken(), grant.expiresAt(), grant.scope());
                }
                if (current.account().status() == Account.Status.REVOKED || attempt >= 5) {
                    requireUsable(current.account());
                    throw ex;
                }
                if (!Objects.equals(current.state(), stored.state())) {
                    // Someone stored another refresh token since this refresh began (the owner reconnected,
                    // or a replica whose lease had run out): never overwrite the newer one. The access
                    // token we got is still good to hand out.
                    log.info("Account {} got a newer refresh token while refreshing; kept it", current.account().id());
                    return remember(current.account(), grant.accessToken(), grant.expiresAt(), grant.scope());
                }
                // Only metadata changed meanwhile: write our rotated refresh token over the new version.
            }
        }
    }

    /**
     * A store operation of a refresh the provider has answered, tried again while the store is
     * unavailable, until {@code leaseEnds}. The provider has rotated the refresh token, so the
     * stored one is dead with providers that rotate strictly: giving up at the first 503 lost the
     * mailbox when Vault's leader died under a refresh (found by RaftLeaderLossIntegrationTests).
     * An election takes seconds, and the lease keeps other replicas from refreshing this mailbox
     * meanwhile; past it, another replica may refresh with the old token, so the save stops.
     */
    private <T> T whileLeaseLasts(Instant leaseEnds, String accountId, Supplier<T> operation) {
        for (int attempt = 0;; attempt++) {
            try {
                return operation.get();
            }
            catch (StoreUnavailableException ex) {
                Duration wait = Duration.ofMillis(Math.min(1000, 250L << Math.min(attempt, 2)));
                if (clock.instant().plus(wait).isAfter(leaseEnds) || Thread.currentThread().isInterrupted()) {
                    log.warn("Could not store the rotated refresh token of account {} before its refresh lease ran out; "
                            + "if the provider refuses the previous one, the mailbox must be connected again", accountId);
                    throw ex;
                }
                sleep(wait.toMillis());
            }
        }
    }

    private IssuedToken remember(Account account, String accessToken, Instant expiresAt, String scope) {
        IssuedToken token = new IssuedToken(account.id(), accessToken, expiresAt, scope, account.mailbox());
        tokens.put(account.id(), new CachedToken(token, clock.instant()));
        accountMetadata.put(account.id(), account);
        lastKnownAccounts.put(account.id(), account);
        return token;
    }

    private ApiException reauthRequired(StoredAccount stored, ProviderException ex) {
        Account.AccountError error = new Account.AccountError(ex.error(), ex.getMessage(), clock.instant());
        updateAccount(stored.account().id(), account -> account.withStatus(Account.Status.REAUTH_REQUIRED, error));
        audit.record("system", "account.reauth_required", "account", stored.account().id(), "failure",
                Map.of("error", ex.error()));
        return ApiException.conflict("reauth-required",
                "The mailbox owner must connect this mailbox again: the provider refused its refresh token ("
                        + ex.error() + ").");
    }

    private void recordError(String accountId, ProviderException ex) {
        Account.AccountError error = new Account.AccountError(ex.error(), ex.getMessage(), clock.instant());
        updateAccount(accountId, account -> account.withStatus(account.status(), error));
    }

    private void updateAccount(String accountId, java.util.function.UnaryOperator<Account> change) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Optional<StoredAccount> stored = accounts.find(accountId);
            if (stored.isEmpty()) {
                return;
            }
            try {
                Account changed = change.apply(stored.get().account());
                accounts.save(changed, stored.get().state(), stored.get().accessToken(), stored.get().version());
                accountMetadata.put(accountId, changed);
                lastKnownAccounts.put(accountId, changed);
                if (changed.status() != Account.Status.ACTIVE) {
                    tokens.invalidate(accountId);
                }
                return;
            }
            catch (VersionConflictException ex) {
                // re-read and apply again
            }
        }
    }

    /** Waits before the next provider call: Retry-After when given, else jittered exponential backoff. */
    private Duration backOff(String accountId, ProviderException failure) {
        Backoff previous = backoffs.get(accountId);
        int failures = previous == null ? 1 : previous.failures() + 1;
        Duration retryAfter = failure.retryAfter();
        Duration wait = retryAfter != null ? retryAfter : backoffPolicy.after(failures, ThreadLocalRandom.current().nextDouble());
        backoffs.put(accountId, new Backoff(clock.instant().plus(wait), failures));
        // One line per failed call, so at most one per mailbox and wait: names the mailbox for operators.
        log.info("Account {}: identity provider call failed ({}), {} in a row; no call for {}", accountId, failure.error(),
                failures, wait);
        return wait;
    }

    private static ApiException providerUnavailable(Duration wait) {
        long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
        return unavailable("provider-unavailable",
                "The identity provider is unavailable or limiting requests; try again in " + seconds + " s.", seconds);
    }

    private static ApiException unavailable(String type, String detail, long retryAfterSeconds) {
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, type, "Try again later", detail, Map.of(),
                Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }

    /** Refreshes tokens in use that come close to expiry, so a steady client never waits. */
    @Scheduled(fixedDelayString = "${postern.tokens.refresh-ahead-check:5s}")
    void refreshAhead() {
        if (drain.draining()) {
            return;
        }
        Instant now = clock.instant();
        tokens.asMap().forEach((accountId, cached) -> {
            boolean inUse = cached.lastUsed.isAfter(now.minus(properties.inUseWindow()));
            Duration window = cached.refreshWindow(properties.refreshAhead());
            boolean closeToExpiry = cached.token.expiresAt().isBefore(now.plus(window));
            if (inUse && closeToExpiry && !inFlight.containsKey(accountId)) {
                refreshOnce(accountId, window).whenComplete((token, failure) -> {
                    if (failure != null) {
                        log.info("Refresh ahead of account {} failed: {}", accountId, failure.getMessage());
                    }
                });
            }
        });
    }

    /**
     * Keeps refresh tokens alive: a mailbox not refreshed for {@code postern.tokens.keep-alive-after}
     * is refreshed now, so none reaches its provider's idle limit (Microsoft: 90 days).
     */
    @Scheduled(fixedDelayString = "${postern.tokens.keep-alive-check:6h}", initialDelayString = "${postern.tokens.keep-alive-initial-delay:1m}")
    public void keepAlive() {
        if (drain.draining()) {
            return;
        }
        Instant threshold = clock.instant().minus(properties.keepAliveAfter());
        for (Account account : accounts.findAll()) {
            Instant lastUse = account.lastRefreshAt() != null ? account.lastRefreshAt() : account.connectedAt();
            if (account.status() == Account.Status.ACTIVE && lastUse.isBefore(threshold)) {
                // A minimum lifetime longer than any token forces a provider call.
                refreshOnce(account.id(), Duration.ofDays(1)).whenComplete((token, failure) -> {
                    if (failure != null) {
                        log.info("Keep-alive refresh of account {} failed: {}", account.id(), failure.getMessage());
                    }
                    else {
                        audit.record("system", "account.keep_alive", "account", account.id(), "success", Map.of());
                    }
                });
            }
        }
    }

    @EventListener
    void onAccountChanged(AccountChangedEvent event) {
        tokens.invalidate(event.account().id());
        accountMetadata.invalidate(event.account().id());
        lastKnownAccounts.invalidate(event.account().id());
        backoffs.remove(event.account().id());
        if (event.account().status() == Account.Status.REVOKED) {
            try {
                leases.forget(event.account().id());
            }
            catch (RuntimeException ex) {
                log.warn("Could not remove the refresh lease of revoked account {}: {}", event.account().id(), ex.getMessage());
            }
        }
    }

    @PreDestroy
    void stop() {
        refreshers.shutdownNow();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
