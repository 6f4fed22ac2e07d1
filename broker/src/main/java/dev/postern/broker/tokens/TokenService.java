package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.access.ApiPrincipal;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;

/**
 * Issues access tokens for mailboxes: checks that the caller may use the mailbox, serves a token
 * with enough time left from memory, otherwise waits for {@link MailboxRefresh}, and audits. The
 * pieces it uses each own one thing: {@link TokenCache} the tokens in memory, {@link MailboxRefresh}
 * single flight and the store, {@link ProviderRefresh} the provider call, {@link RefreshBackoffs}
 * the waits after failures, {@link TokenSchedules} the background refreshes.
 */
@Service
public class TokenService {

    private static final Map<String, String> CACHE_SOURCE = Map.of("source", "cache");

    private static final Map<String, String> REFRESH_SOURCE = Map.of("source", "refresh");

    private static final Map<String, String> JOINED_SOURCE = Map.of("source", "joined");

    /** A minimum lifetime longer than any access token: the refresh goes to the provider. */
    private static final Duration LONGER_THAN_ANY_TOKEN = Duration.ofDays(1);

    private final AccountService accounts;

    private final TokenCache tokens;

    private final MailboxRefresh refresh;

    private final RefreshBackoffs backoffs;

    private final TokenMetrics metrics;

    private final AuditLog audit;

    private final Clock clock;

    TokenService(AccountService accounts, TokenCache tokens, MailboxRefresh refresh, RefreshBackoffs backoffs,
            TokenMetrics metrics, AuditLog audit, Clock clock) {
        this.accounts = accounts;
        this.tokens = tokens;
        this.refresh = refresh;
        this.backoffs = backoffs;
        this.metrics = metrics;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * An access token for {@code accountId} with at least {@code minTtl} left, for a caller
     * allowed to use that mailbox.
     */
    public IssuedToken issue(ApiPrincipal caller, String accountId, Duration minTtl) {
        authorise(caller, accountId);
        IssuedToken cached = tokens.use(accountId, clock.instant(), minTtl);
        if (cached != null) {
            metrics.request("cache");
            // Counted, not one event per request: a client may fetch its cached token thousands of times a second.
            audit.recordRepeated(caller.clientId(), AuditActions.TOKEN_ISSUE, "account", accountId, "success", CACHE_SOURCE);
            return cached;
        }
        return refreshed(caller, accountId, minTtl);
    }

    /**
     * A token newly refreshed at the provider, for a caller whose token a resource server (the
     * mail proxy's upstream) refused although it had not expired. Callers that ask at once share one refresh.
     */
    public IssuedToken refreshNow(ApiPrincipal caller, String accountId) {
        authorise(caller, accountId);
        return refreshed(caller, accountId, LONGER_THAN_ANY_TOKEN);
    }

    private void authorise(ApiPrincipal caller, String accountId) {
        Account account = accounts.current(accountId);
        if (!caller.mayUseAccount(account.id(), account.appId())) {
            metrics.request("denied");
            audit.record(caller.clientId(), AuditActions.TOKEN_ISSUE, "account", accountId, "denied", Map.of());
            throw ApiException.forbidden("This API client may not get tokens for this mailbox.");
        }
        TokenProblems.requireUsable(account);
    }

    private IssuedToken refreshed(ApiPrincipal caller, String accountId, Duration minTtl) {
        try {
            MailboxRefresh.Refreshed refreshed = refresh.refresh(accountId, minTtl);
            if (refreshed.joined()) {
                // One refresh, however many callers waited for it: those who joined are counted like
                // cached tokens (1,000 at once were 1,000 "refresh" events and audit lines for one call).
                metrics.request("joined");
                audit.recordRepeated(caller.clientId(), AuditActions.TOKEN_ISSUE, "account", accountId, "success", JOINED_SOURCE);
            }
            else {
                metrics.request("refresh");
                audit.record(caller.clientId(), AuditActions.TOKEN_ISSUE, "account", accountId, "success", REFRESH_SOURCE);
            }
            return refreshed.token();
        }
        catch (ApiException ex) {
            metrics.request("error");
            audit.record(caller.clientId(), AuditActions.TOKEN_ISSUE, "account", accountId, "failure", Map.of("problem", ex.type()));
            throw ex;
        }
    }

    @EventListener
    void onAccountChanged(AccountChangedEvent event) {
        String accountId = event.account().id();
        if (event.dropsTokens()) {
            tokens.forget(accountId);
        }
        backoffs.clear(accountId);
    }
}
