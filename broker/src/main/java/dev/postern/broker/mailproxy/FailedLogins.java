package dev.postern.broker.mailproxy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;

import dev.postern.broker.access.ApiKeys;

/**
 * Failed logins per client address at the mail proxy, the counterpart of the API's failed-key
 * limit. After {@code max-failed-logins} failures from one address within
 * {@code failed-login-window}, the address is blocked for {@code failed-login-cooldown}: its
 * logins are refused before any store read and are not audited one by one, so nobody without
 * credentials can make Postern read its store and grow its audit trail without limit.
 * <p>
 * As with API keys, a valid credential is not locked out by someone else's failures: one that
 * logged in on this replica within {@link #ACCEPTED_REMEMBERED} is still checked as usual while its
 * address is blocked (a NAT, or a server that polls many mailboxes, shares one address with a
 * program whose password was revoked). Only a SHA-256 of mailbox and password is kept.
 */
final class FailedLogins {

    /** How long a credential that logged in is let past a block of its address. */
    static final Duration ACCEPTED_REMEMBERED = Duration.ofDays(1);

    /** Credentials remembered at most (about 250 bytes each); the least recent are forgotten first. */
    static final int MAX_ACCEPTED = 10_000;

    private final int maxFailures;

    private final Duration window;

    private final Duration cooldown;

    private final Cache<String, AtomicInteger> failures;

    private final Cache<String, Boolean> blocked;

    private final Cache<String, Boolean> accepted;

    /**
     * The {@code postern.mail-proxy.*-failed-login*} settings; {@code ticker} is the clock of
     * window and cooldown, the system's or a test's.
     */
    FailedLogins(int maxFailures, Duration window, Duration cooldown, int maxAddresses, Ticker ticker) {
        this.maxFailures = maxFailures;
        this.window = window;
        this.cooldown = cooldown;
        this.failures = Caffeine.newBuilder()
            .ticker(ticker)
            .expireAfterWrite(window)
            .maximumSize(maxAddresses)
            .build();
        this.blocked = Caffeine.newBuilder()
            .ticker(ticker)
            .expireAfterWrite(cooldown)
            .maximumSize(maxAddresses)
            .build();
        this.accepted = Caffeine.newBuilder()
            .ticker(ticker)
            .expireAfterWrite(ACCEPTED_REMEMBERED)
            .maximumSize(MAX_ACCEPTED)
            .build();
    }

    int maxFailures() {
        return maxFailures;
    }

    Duration window() {
        return window;
    }

    Duration cooldown() {
        return cooldown;
    }

    /** Whether logins from {@code address} are refused unchecked now. */
    boolean isBlocked(String address) {
        return blocked.getIfPresent(address) != null;
    }

    /**
     * Counts a failed login from {@code address}; true when this failure blocks it, which happens
     * once per cooldown and is the moment to audit the block.
     */
    boolean failedAndNowBlocked(String address) {
        if (failures.get(address, a -> new AtomicInteger()).incrementAndGet() < maxFailures) {
            return false;
        }
        // The count starts again once the cooldown is over, whichever of window and cooldown is longer.
        failures.invalidate(address);
        return blocked.asMap().putIfAbsent(address, Boolean.TRUE) == null;
    }

    /** Remembers that {@code password} opened {@code mailbox}, so that a block does not lock it out. */
    void accepted(String mailbox, String password) {
        accepted.put(fingerprint(mailbox, password), Boolean.TRUE);
    }

    /** Whether {@code password} opened {@code mailbox} recently. */
    boolean wasAccepted(String mailbox, String password) {
        return accepted.getIfPresent(fingerprint(mailbox, password)) != null;
    }

    /** Forgets a credential that no longer works (revoked, expired), so it is refused like any other. */
    void forget(String mailbox, String password) {
        accepted.invalidate(fingerprint(mailbox, password));
    }

    private static String fingerprint(String mailbox, String password) {
        return ApiKeys.hash(mailbox + "\n" + password);
    }
}
