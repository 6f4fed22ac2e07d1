package dev.postern.broker.mailproxy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import dev.postern.broker.ApiException;
import dev.postern.broker.Role;
import dev.postern.broker.access.Actors;
import dev.postern.broker.access.ApiClientService;
import dev.postern.broker.access.ApiPrincipal;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.tokens.IssuedToken;
import dev.postern.broker.tokens.TokenService;

/**
 * Checks a mail client's user name and password: the user is a mailbox address, the password an API
 * key of role {@code client} allowed for that mailbox, or an app password of that mailbox. Audits
 * every login it checks and counts every outcome; refuses an address with too many failed logins
 * unchecked for a while ({@link FailedLogins}); never logs or audits the password.
 */
final class MailLogins {

    static final String STORE_UNAVAILABLE = "Postern cannot read its store right now; try again later.";

    /**
     * The longest user name that can be a mailbox address (as {@code POST /v1/token} takes it); a
     * longer one is refused without a lookup and audited cut to this length, since anyone who
     * reaches the listener chooses it, and command lines may be 8 KiB.
     */
    static final int MAX_USER_LENGTH = 320;

    static final String TOO_MANY_FAILURES = "Too many failed logins from this address; try again later.";

    /**
     * The account an app password is checked against when the user name is no mailbox that could
     * take one; no account has this id, and it is a valid store id, so the check reads the store.
     */
    static final String NO_ACCOUNT = "acc_none";

    private final ApiClientService clients;

    private final AccountService accounts;

    private final TokenService tokens;

    private final AuditLog audit;

    private final MeterRegistry meters;

    private final Duration minTokenTtl;

    private final FailedLogins failedLogins;

    private final ConcurrentHashMap<String, Counter> outcomes = new ConcurrentHashMap<>();

    private final AppPasswordService appPasswords;

    MailLogins(ApiClientService clients, AccountService accounts, AppPasswordService appPasswords, TokenService tokens,
            AuditLog audit, MeterRegistry meters, Duration minTokenTtl, FailedLogins failedLogins) {
        this.clients = clients;
        this.appPasswords = appPasswords;
        this.accounts = accounts;
        this.tokens = tokens;
        this.audit = audit;
        this.meters = meters;
        this.minTokenTtl = minTokenTtl;
        this.failedLogins = failedLogins;
    }

    /**
     * A client that proved who it is, and the mailbox it logged in as; {@code acceptedNanos} is when
     * (System.nanoTime), the start of the upstream login.
     */
    record Login(ApiPrincipal principal, Account account, String protocol, String remote, long acceptedNanos) {
    }

    /** Why a login did not succeed; the message is shown to the client and never holds a secret. */
    static final class LoginFailure extends Exception {

        private final boolean credentials;

        private final String reason;

        LoginFailure(boolean credentials, String reason, String message) {
            super(message, null, false, false);
            this.credentials = credentials;
            this.reason = reason;
        }

        /** A short code for the audit trail. */
        String reason() {
            return reason;
        }

        /** Whether the user name or password was wrong (else Postern or the upstream could not serve it now). */
        boolean credentials() {
            return credentials;
        }
    }

    /** Checks {@code user} and {@code password}; audits and counts a refusal. */
    Login authenticate(String protocol, String user, String password, InetAddress remote) throws LoginFailure {
        String given = user.strip().toLowerCase(Locale.ROOT);
        boolean tooLong = given.length() > MAX_USER_LENGTH;
        String mailbox = tooLong ? given.substring(0, MAX_USER_LENGTH) + "\u2026" : given;
        String source = remote.getHostAddress();
        if (failedLogins.isBlocked(source) && !failedLogins.wasAccepted(mailbox, password)) {
            // Neither checked nor audited: no store read, and the block itself was audited once.
            count("too_many_failures");
            throw new LoginFailure(false, "too_many_failures", TOO_MANY_FAILURES);
        }
        Optional<ApiPrincipal> principal;
        Optional<Account> account = Optional.empty();
        try {
            // A longer name is no mailbox's address: refused like a wrong password, without reading the store.
            if (tooLong) {
                principal = Optional.empty();
            }
            else if (password.startsWith(AppPasswordService.PREFIX)) {
                // An app password opens its one mailbox; it acts as a client limited to that account.
                AtomicReference<AppPassword> matched = new AtomicReference<>();
                AtomicBoolean checked = new AtomicBoolean();
                account = accounts.findByMailbox(mailbox, a -> {
                    checked.set(true);
                    return appPasswords.verify(a.id(), password).map(found -> {
                        matched.set(found);
                        return true;
                    }).orElse(false);
                });
                if (!checked.get()) {
                    // An unknown or revoked mailbox costs what a wrong password of a connected one costs (the
                    // hash and a read of an app password that is not there), so timing shows neither.
                    appPasswords.verify(NO_ACCOUNT, password);
                }
                principal = account.map(a -> new ApiPrincipal(matched.get().id(), Role.CLIENT, Set.of(), Set.of(a.id())));
            }
            else {
                principal = clients.authenticate(password);
                if (principal.isPresent()) {
                    ApiPrincipal caller = principal.get();
                    account = accounts.findByMailbox(mailbox, a -> caller.mayUseAccount(a.id(), a.appId()));
                }
            }
        }
        catch (StoreUnavailableException ex) {
            fail(protocol, mailbox, source, null, "store_unavailable");
            throw new LoginFailure(false, "store_unavailable", STORE_UNAVAILABLE);
        }
        if (principal.isEmpty() || account.isEmpty()) {
            // One answer for a wrong key, a key of another role and a mailbox the key may not use: no probing.
            fail(protocol, mailbox, source, principal.map(ApiPrincipal::clientId).orElse(null),
                    principal.isEmpty() ? "invalid_credentials" : "mailbox_not_allowed");
            failedLogins.forget(mailbox, password);
            if (failedLogins.failedAndNowBlocked(source)) {
                auditBlock(protocol, source);
            }
            throw new LoginFailure(true, "invalid_credentials", "Invalid user name or password.");
        }
        failedLogins.accepted(mailbox, password);
        return new Login(principal.get(), account.get(), protocol, source, System.nanoTime());
    }

    /**
     * The mailbox's access token; {@code fresh} forces a provider refresh (after the upstream
     * refused the token it was given).
     */
    IssuedToken token(Login login, boolean fresh) throws LoginFailure {
        try {
            return fresh ? tokens.refreshNow(login.principal(), login.account().id())
                    : tokens.issue(login.principal(), login.account().id(), minTokenTtl);
        }
        catch (ApiException ex) {
            throw new LoginFailure(false, ex.type(), ex.getMessage());
        }
        catch (StoreUnavailableException ex) {
            throw new LoginFailure(false, "store_unavailable", STORE_UNAVAILABLE);
        }
    }

    /** Records a login the upstream accepted. */
    void succeeded(Login login) {
        count("success");
        timeUpstreamLogin(login, "success");
        audit.success(login.principal().clientId(), AuditActions.MAIL_PROXY_LOGIN, "account", login.account().id(), details(login, null));
    }

    /** Records a login refused because the mailbox or the proxy has as many sessions open as allowed. */
    void refusedByLimit(Login login) {
        count("session_limit");
        audit.record(login.principal().clientId(), AuditActions.MAIL_PROXY_LOGIN, "account", login.account().id(), "failure",
                details(login, "session_limit"));
    }

    /**
     * Records a relayed session Postern ended because what it logged in with was revoked: by
     * {@code system}, with the login's mailbox, protocol and address and the revoke as the reason.
     */
    void closedOnRevoke(Login login, MailSessions.Revocation why) {
        Map<String, String> details = details(login, why.reason);
        details.put("logged_in_with", login.principal().clientId());
        audit.success(Actors.SYSTEM, AuditActions.MAIL_PROXY_SESSION_CLOSE, "account", login.account().id(), details);
    }

    /** Records a login that failed after the credentials were accepted (token or upstream); {@code reason} is a code. */
    void fail(Login login, String reason) {
        count("upstream_failure");
        timeUpstreamLogin(login, "failure");
        audit.record(login.principal().clientId(), AuditActions.MAIL_PROXY_LOGIN, "account", login.account().id(), "failure",
                details(login, reason));
    }

    private void fail(String protocol, String mailbox, String source, @org.jspecify.annotations.Nullable String clientId,
            String reason) {
        count(reason.equals("store_unavailable") ? "unavailable" : "invalid_credentials");
        Map<String, String> details = new LinkedHashMap<>();
        details.put("protocol", protocol);
        details.put("mailbox", mailbox);
        details.put("remote_address", source);
        details.put("reason", reason);
        audit.record(clientId != null ? clientId : "anonymous", AuditActions.MAIL_PROXY_LOGIN, "mailbox", mailbox, "failure", details);
    }

    private static Map<String, String> details(Login login, @org.jspecify.annotations.Nullable String reason) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("protocol", login.protocol());
        details.put("mailbox", login.account().mailbox());
        details.put("remote_address", login.remote());
        if (reason != null) {
            details.put("reason", reason);
        }
        return details;
    }

    /** One event for a block of {@code source}, in place of one per login it refuses (those are only counted). */
    private void auditBlock(String protocol, String source) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("protocol", protocol);
        details.put("remote_address", source);
        details.put("failed_logins", String.valueOf(failedLogins.maxFailures()));
        details.put("window_seconds", String.valueOf(failedLogins.window().toSeconds()));
        details.put("refused_for_seconds", String.valueOf(failedLogins.cooldown().toSeconds()));
        audit.record("anonymous", AuditActions.MAIL_PROXY_LOGIN_LIMIT, "remote_address", source, "denied", details);
    }

    /** From accepted credentials to the server's answer: the token (cached or refreshed), connect, TLS, XOAUTH2. */
    private void timeUpstreamLogin(Login login, String outcome) {
        Timer.builder("postern_mail_proxy_upstream_login")
            .description("Time from accepted credentials to the mail server's answer to the XOAUTH2 login")
            .tag("protocol", login.protocol())
            .tag("outcome", outcome)
            .publishPercentileHistogram()
            .register(meters)
            .record(System.nanoTime() - login.acceptedNanos(), TimeUnit.NANOSECONDS);
    }

    private void count(String outcome) {
        outcomes.computeIfAbsent(outcome, o -> Counter.builder("postern_mail_proxy_logins_total")
            .description("Logins at the IMAP and SMTP proxy by outcome")
            .tag("outcome", o)
            .register(meters)).increment();
    }
}
