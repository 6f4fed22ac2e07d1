package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import jakarta.annotation.PreDestroy;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountRepository.StoredAccessToken;
import dev.postern.broker.accounts.AccountRepository.StoredAccount;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.apps.AppRepository.StoredApp;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.DocumentIntegrityException;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.store.VersionConflictException;

/**
 * Refreshes a mailbox once however many callers ask at once: one refresh in flight per mailbox in
 * this process, and across replicas one refresh lease, kept in the account document itself.
 * <p>
 * A miss costs two store writes and, when this replica wrote the account last, no read: the lease
 * is taken with a CAS write on the version this replica knows (it fails when anyone wrote since,
 * and the account is read again), the provider is called, and the save, a CAS write on the
 * lease's version, stores the rotated refresh token and the new access token and clears the
 * lease. Nothing is written after the answer, so a client's next miss never waits for this one's
 * bookkeeping. A replica that finds the lease held by another waits for its save and then uses
 * the access token stored with it instead of refreshing again (docs/architecture.md).
 */
@Component
class MailboxRefresh {

    private static final Logger log = LoggerFactory.getLogger(MailboxRefresh.class);

    /** This process, as a lease holder. */
    private final String owner = StoreIds.newId("broker");

    private final AccountService accounts;

    private final AppRepository apps;

    private final ProviderRefresh provider;

    private final RefreshBackoffs backoffs;

    private final TokenCache tokens;

    private final RefreshDrain drain;

    private final AuditLog audit;

    private final Clock clock;

    private final TokenProperties properties;

    private final ConcurrentHashMap<String, CompletableFuture<IssuedToken>> inFlight = new ConcurrentHashMap<>();

    private final ExecutorService refreshers = Executors.newVirtualThreadPerTaskExecutor();

    MailboxRefresh(AccountService accounts, AppRepository apps, ProviderRefresh provider, RefreshBackoffs backoffs,
            TokenCache tokens, RefreshDrain drain, AuditLog audit, Clock clock, TokenProperties properties) {
        this.accounts = accounts;
        this.apps = apps;
        this.provider = provider;
        this.backoffs = backoffs;
        this.tokens = tokens;
        this.drain = drain;
        this.audit = audit;
        this.clock = clock;
        this.properties = properties;
    }

    /**
     * A refreshed token for one caller.
     *
     * @param joined whether the caller joined a refresh another caller had started: its token came
     *        from that one provider call, as a cached token comes from memory
     */
    record Refreshed(IssuedToken token, boolean joined) {
    }

    /** A token with {@code minTtl} left, from the refresh in flight for {@code accountId} or a new one; waits for it. */
    Refreshed refresh(String accountId, Duration minTtl) {
        Flight flight = fly(accountId, minTtl);
        return new Refreshed(await(flight.token()), flight.joined());
    }

    /** Joins the refresh in flight for {@code accountId}, or starts the one; does not wait. */
    CompletableFuture<IssuedToken> refreshOnce(String accountId, Duration minTtl) {
        return fly(accountId, minTtl).token();
    }

    private record Flight(CompletableFuture<IssuedToken> token, boolean joined) {
    }

    private Flight fly(String accountId, Duration minTtl) {
        CompletableFuture<IssuedToken> mine = new CompletableFuture<>();
        CompletableFuture<IssuedToken> running = inFlight.putIfAbsent(accountId, mine);
        if (running != null) {
            // Joining a refresh under way is allowed while shutting down: it finishes before the process exits.
            return new Flight(running, true);
        }
        if (!drain.tryStart()) {
            inFlight.remove(accountId, mine);
            mine.completeExceptionally(TokenProblems.unavailable(ProblemTypes.SHUTTING_DOWN,
                    "This broker is shutting down; another replica, or this one once restarted, serves the token.", 1));
            return new Flight(mine, false);
        }
        try {
            refreshers.execute(() -> {
                try {
                    IssuedToken token = refreshAcrossReplicas(accountId, minTtl);
                    // Out of the map first: a request after the answer (perhaps asking for more lifetime
                    // than this token has) starts a refresh of its own instead of joining a finished one.
                    inFlight.remove(accountId, mine);
                    mine.complete(token);
                }
                catch (Throwable ex) {
                    inFlight.remove(accountId, mine);
                    mine.completeExceptionally(ex);
                }
                finally {
                    // After the save: the drain waits for it.
                    drain.finished();
                }
            });
        }
        catch (RejectedExecutionException closed) {
            drain.finished();
            inFlight.remove(accountId, mine);
            mine.completeExceptionally(closed);
        }
        return new Flight(mine, false);
    }

    boolean inFlight(String accountId) {
        return inFlight.containsKey(accountId);
    }

    private IssuedToken await(CompletableFuture<IssuedToken> refresh) {
        try {
            return refresh.get(properties.leaseDuration().toMillis() * 2, TimeUnit.MILLISECONDS);
        }
        catch (ExecutionException ex) {
            switch (ex.getCause()) {
                case ApiException api -> throw api;
                // An expected outage, not a bug: 503 store-unavailable with Retry-After, no stack trace.
                case StoreUnavailableException unavailable -> throw unavailable;
                // Already logged by the store with the path; 500 store-integrity, no stack trace.
                case DocumentIntegrityException refused -> throw refused;
                default -> {
                    log.error("Token refresh failed", ex.getCause());
                    throw new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, ProblemTypes.INTERNAL_ERROR, "Internal error",
                            "The token could not be refreshed; the request id leads to the log entry.");
                }
            }
        }
        catch (TimeoutException ex) {
            throw TokenProblems.unavailable(ProblemTypes.REFRESH_TIMEOUT, "The token refresh did not finish in time; try again.", 5);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw TokenProblems.unavailable(ProblemTypes.REFRESH_TIMEOUT, "Interrupted.", 5);
        }
    }

    /**
     * Takes the lease and refreshes, or uses the token another replica stored. The account this
     * replica last read or wrote is the base: when anyone wrote it since, the lease write fails and
     * the account is read again, so a refresh token another replica has rotated is never used.
     */
    private IssuedToken refreshAcrossReplicas(String accountId, Duration minTtl) {
        Instant deadline = clock.instant().plus(properties.leaseDuration());
        StoredAccount base = accounts.lastKnown(accountId).orElseGet(() -> accounts.read(accountId));
        while (true) {
            TokenProblems.requireUsable(base.account());
            if (base.refreshLease() != null && base.refreshLease().heldByAnother(owner, clock.instant())) {
                // Another replica is refreshing: wait for its save, under which its token is found.
                backoffs.requireNone(accountId);
                if (clock.instant().isAfter(deadline)) {
                    throw TokenProblems.unavailable(ProblemTypes.REFRESH_IN_PROGRESS,
                            "Another replica is refreshing this mailbox; try again.", 2);
                }
                sleep(100);
                base = accounts.read(accountId);
                continue;
            }
            IssuedToken stored = storedToken(base, minTtl);
            if (stored != null) {
                return stored;
            }
            backoffs.requireNone(accountId);
            if (base.state() == null) {
                throw ApiException.conflict(ProblemTypes.REAUTH_REQUIRED, "This mailbox has no refresh token; connect it again.");
            }
            StoredApp app = apps.findRecent(base.account().appId())
                .orElseThrow(() -> ApiException.conflict(ProblemTypes.APP_MISSING, "The app of this mailbox no longer exists."));
            // Computed before the lease is written, so it ends no later than the lease in the store.
            Instant leaseEnds = clock.instant().plus(properties.leaseDuration());
            StoredAccount leased;
            try {
                leased = accounts.takeRefreshLease(base, owner, leaseEnds);
            }
            catch (VersionConflictException ex) {
                base = accounts.read(accountId); // someone wrote it since: see what
                continue;
            }
            return refreshUnderLease(leased, app, leaseEnds);
        }
    }

    private IssuedToken refreshUnderLease(StoredAccount leased, StoredApp app, Instant leaseEnds) {
        TokenGrant grant;
        try {
            grant = provider.refresh(app, Objects.requireNonNull(leased.state()));
        }
        catch (RuntimeException ex) {
            giveBack(leased);
            throw failure(leased, app, ex);
        }
        backoffs.clear(leased.account().id());
        return save(leased, grant, leaseEnds);
    }

    /** What the caller sees of a refresh that failed; records it on the account where the owner must act. */
    private RuntimeException failure(StoredAccount leased, StoredApp app, RuntimeException ex) {
        if (!(ex instanceof ProviderException refused)) {
            return ex;
        }
        String accountId = leased.account().id();
        return switch (refused.kind()) {
            case REAUTH_REQUIRED -> {
                Account.AccountError error = new Account.AccountError(refused.error(), refused.getMessage(), clock.instant());
                if (!accounts.changeStatusIfState(accountId, leased.state(),
                        account -> account.withStatus(Account.Status.REAUTH_REQUIRED, error))) {
                    // The owner connected the mailbox again during the refresh: the refused token is not the
                    // stored one any more, and the new connection must not be marked broken.
                    yield TokenProblems.unavailable(ProblemTypes.REFRESH_IN_PROGRESS,
                            "This mailbox was connected again during the refresh; try again.", 1);
                }
                audit.record("system", AuditActions.ACCOUNT_REAUTH_REQUIRED, "account", accountId, "failure",
                        Map.of("error", refused.error()));
                yield ApiException.conflict(ProblemTypes.REAUTH_REQUIRED,
                        "The mailbox owner must connect this mailbox again: the provider refused its refresh token ("
                                + refused.error() + ").");
            }
            case RETRY_LATER -> TokenProblems.providerUnavailable(backoffs.failed(accountId, refused));
            case CLIENT_REJECTED -> {
                recordError(accountId, refused);
                // The app may have been rotated on another replica: read it again next time.
                apps.forgetRecent(app.app().id());
                yield new ApiException(HttpStatus.BAD_GATEWAY, ProblemTypes.PROVIDER_REJECTED_CLIENT, "App credential rejected",
                        "The identity provider rejected the app's credentials (" + refused.error()
                                + "): rotate the app's client secret or certificate.");
            }
            case FAILED -> {
                recordError(accountId, refused);
                yield new ApiException(HttpStatus.BAD_GATEWAY, ProblemTypes.PROVIDER_ERROR, "Identity provider error",
                        "The identity provider refused the refresh (" + refused.error() + ").");
            }
        };
    }

    private void recordError(String accountId, ProviderException ex) {
        Account.AccountError error = new Account.AccountError(ex.error(), ex.getMessage(), clock.instant());
        accounts.changeStatus(accountId, account -> account.withStatus(account.status(), error));
    }

    /**
     * Clears the lease of a refresh that stored nothing, so another replica need not wait for it to
     * run out. A failure here changes nothing of the outcome: the lease runs out by itself.
     */
    private void giveBack(StoredAccount leased) {
        try {
            accounts.releaseRefreshLease(leased);
        }
        catch (VersionConflictException | StoreUnavailableException ex) {
            log.info("Could not give back the refresh lease of account {}; it runs out by itself: {}",
                    leased.account().id(), ex.getMessage());
        }
    }

    /** The access token stored with the account (by any replica) when it has {@code minTtl} left, else null. */
    private @Nullable IssuedToken storedToken(StoredAccount stored, Duration minTtl) {
        StoredAccessToken latest = stored.accessToken();
        if (latest != null && latest.expiresAt().isAfter(clock.instant().plus(minTtl))) {
            return remember(stored.account(), latest);
        }
        return null;
    }

    /**
     * Stores the rotated refresh token and the new access token over the lease's version, then
     * remembers and returns the token. While the store is unavailable it tries again until {@code leaseEnds}.
     */
    private IssuedToken save(StoredAccount leased, TokenGrant grant, Instant leaseEnds) {
        String accountId = leased.account().id();
        // One instance for every mailbox granted the same scopes, in both caches (as for accounts read).
        String scope = grant.scope().intern();
        StoredAccessToken token = new StoredAccessToken(grant.accessToken(), grant.expiresAt(), scope);
        StoredAccount current = leased;
        for (int attempt = 0;; attempt++) {
            Account refreshed = current.account().refreshed(clock.instant(), scope);
            StoredAccount base = current;
            try {
                StoredAccount saved = whileLeaseLasts(leaseEnds, accountId,
                        () -> accounts.saveRefreshed(base, refreshed, grant.mailboxState(), token));
                return remember(saved.account(), token);
            }
            catch (VersionConflictException ex) {
                current = whileLeaseLasts(leaseEnds, accountId, () -> accounts.read(accountId));
                if (Objects.equals(current.state(), grant.mailboxState())) {
                    // Our own write landed but its answer was lost (Vault lost its leader meanwhile).
                    return remember(current.account(), token);
                }
                if (current.account().status() == Account.Status.REVOKED || attempt >= 5) {
                    TokenProblems.requireUsable(current.account());
                    throw ex;
                }
                if (!Objects.equals(current.state(), leased.state())) {
                    // Someone stored another refresh token since this refresh began (the owner reconnected,
                    // or a replica whose lease had run out): never overwrite the newer one. The access
                    // token we got is still good to hand out.
                    log.info("Account {} got a newer refresh token while refreshing; kept it", accountId);
                    return remember(current.account(), token);
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

    private IssuedToken remember(Account account, StoredAccessToken token) {
        return tokens.put(account, token, clock.instant());
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
