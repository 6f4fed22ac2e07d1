package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.annotation.PreDestroy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;

/**
 * The refreshes nobody waits for: tokens in use refreshed ahead of expiry, and mailboxes not
 * refreshed for {@code keep-alive-after} refreshed so their refresh token does not reach the
 * provider's idle limit. Keep-alive refreshes found due are spread evenly over
 * {@code keep-alive-spread}, and background refreshes of one app make at most
 * {@code background-refreshes-per-app} provider calls at once: 100,000 due mailboxes never reach a
 * provider as one burst.
 */
@Component
public class TokenSchedules {

    private static final Logger log = LoggerFactory.getLogger(TokenSchedules.class);

    /** A minimum lifetime longer than any access token: the refresh goes to the provider. */
    private static final Duration LONGER_THAN_ANY_TOKEN = Duration.ofDays(1);

    private final TokenCache tokens;

    private final MailboxRefresh refresh;

    private final AccountService accounts;

    private final RefreshDrain drain;

    private final AuditLog audit;

    private final Clock clock;

    private final TokenProperties properties;

    /** Per app, the permits for background provider calls. */
    private final ConcurrentHashMap<String, Semaphore> callsPerApp = new ConcurrentHashMap<>();

    private final AtomicBoolean keepAliveRunning = new AtomicBoolean();

    /** Mailboxes with a background refresh queued or running, so a check does not queue one twice. */
    private final Set<String> queued = ConcurrentHashMap.newKeySet();

    private final ExecutorService pacer = Executors.newVirtualThreadPerTaskExecutor();

    TokenSchedules(TokenCache tokens, MailboxRefresh refresh, AccountService accounts, RefreshDrain drain, AuditLog audit,
            Clock clock, TokenProperties properties) {
        this.tokens = tokens;
        this.refresh = refresh;
        this.accounts = accounts;
        this.drain = drain;
        this.audit = audit;
        this.clock = clock;
        this.properties = properties;
    }

    /** Refreshes tokens in use that come close to expiry, so a steady client never waits. */
    @Scheduled(fixedDelayString = "${postern.tokens.refresh-ahead-check:5s}")
    void refreshAhead() {
        if (drain.draining()) {
            return;
        }
        for (TokenCache.Due due : tokens.dueForRefresh(clock.instant(), properties.refreshAhead(), properties.inUseWindow())) {
            if (!refresh.inFlight(due.accountId()) && queued.add(due.accountId())) {
                pacer.execute(() -> refreshInBackground(due.accountId(), due.window(), "Refresh ahead"));
            }
        }
    }

    @Scheduled(fixedDelayString = "${postern.tokens.keep-alive-check:6h}", initialDelayString = "${postern.tokens.keep-alive-initial-delay:1m}")
    void keepAliveCheck() {
        keepAlive();
    }

    /**
     * Starts a keep-alive pass unless one is still running: the mailboxes not refreshed for
     * {@code keep-alive-after}, refreshed one after another at an even pace over {@code keep-alive-spread}.
     *
     * @return the pass, done when every due mailbox was refreshed or failed
     */
    public CompletableFuture<Void> keepAlive() {
        if (drain.draining() || !keepAliveRunning.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        Instant threshold = clock.instant().minus(properties.keepAliveAfter());
        // A background scan, not a request: the one place tokens read every account.
        List<Account> due = accounts.all()
            .stream()
            .filter(account -> account.status() == Account.Status.ACTIVE)
            .filter(account -> (account.lastRefreshAt() != null ? account.lastRefreshAt() : account.connectedAt())
                .isBefore(threshold))
            .toList();
        if (!due.isEmpty()) {
            log.info("Keep-alive: {} mailboxes not refreshed since {}, refreshed over {}", due.size(), threshold,
                    properties.keepAliveSpread());
        }
        return CompletableFuture.runAsync(() -> pace(due), pacer).whenComplete((done, failure) -> keepAliveRunning.set(false));
    }

    /** Starts the keep-alive refresh of each of {@code due} at an even pace, and waits for them all. */
    private void pace(List<Account> due) {
        long gapNanos = due.isEmpty() ? 0 : properties.keepAliveSpread().toNanos() / due.size();
        long next = System.nanoTime();
        CompletableFuture<?>[] refreshes = new CompletableFuture<?>[due.size()];
        for (int i = 0; i < due.size(); i++) {
            if (drain.draining()) {
                refreshes[i] = CompletableFuture.completedFuture(null);
                continue;
            }
            sleepUntil(next);
            next += gapNanos;
            String accountId = due.get(i).id();
            if (!queued.add(accountId)) {
                refreshes[i] = CompletableFuture.completedFuture(null);
                continue;
            }
            refreshes[i] = CompletableFuture.runAsync(() -> {
                if (refreshInBackground(accountId, LONGER_THAN_ANY_TOKEN, "Keep-alive refresh")) {
                    audit.record("system", AuditActions.ACCOUNT_KEEP_ALIVE, "account", accountId, "success", Map.of());
                }
            }, pacer);
        }
        CompletableFuture.allOf(refreshes).join();
    }

    /**
     * One background refresh within its app's ceiling of provider calls at once; waits for a permit.
     *
     * @return whether it succeeded (a failure is logged: the next request or pass tries again)
     */
    private boolean refreshInBackground(String accountId, Duration minTtl, String what) {
        try {
            return refreshWithinCeiling(accountId, minTtl, what);
        }
        finally {
            queued.remove(accountId);
        }
    }

    private boolean refreshWithinCeiling(String accountId, Duration minTtl, String what) {
        Semaphore permits;
        try {
            permits = callsPerApp.computeIfAbsent(accounts.current(accountId).appId(),
                    app -> new Semaphore(properties.backgroundRefreshesPerApp()));
            permits.acquire();
        }
        catch (RuntimeException ex) {
            log.info("{} of account {} failed: {}", what, accountId, ex.getMessage());
            return false;
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            refresh.refreshOnce(accountId, minTtl).get(properties.leaseDuration().toMillis() * 2, TimeUnit.MILLISECONDS);
            return true;
        }
        catch (Exception ex) {
            if (ex instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
            log.info("{} of account {} failed: {}", what, accountId, cause.getMessage());
            return false;
        }
        finally {
            permits.release();
        }
    }

    private static void sleepUntil(long nanoTime) {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @PreDestroy
    void stop() {
        pacer.shutdownNow();
    }
}
