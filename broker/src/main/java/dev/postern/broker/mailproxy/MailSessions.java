package dev.postern.broker.mailproxy;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;

import dev.postern.broker.accounts.Account;

/**
 * The logged-in sessions the proxy relays, counted per mailbox and in total, within
 * {@code max-sessions-per-mailbox} and {@code max-sessions}. Providers limit concurrent IMAP
 * connections per mailbox (Gmail 15, Microsoft 20); a program that leaks connections through
 * Postern is stopped here with a clear answer rather than by the provider with an obscure one.
 * <p>
 * Each session is indexed by its mailbox and by the credential it logged in with (an app password
 * or an API client), so that a revoke ends exactly the sessions it concerns without a walk over all
 * of them: the upstream server accepted the token at login and never asks again, so a session
 * would otherwise outlive its credential.
 */
final class MailSessions {

    /** Why Postern ended a session: the code audited as {@code reason}, and the words a client sees. */
    enum Revocation {
        APP_PASSWORD_REVOKED("app_password_revoked", "the app password it logged in with was revoked"),
        CLIENT_REVOKED("client_revoked", "the API key it logged in with was revoked"),
        ACCOUNT_REVOKED("account_revoked", "the mailbox was revoked in Postern"),
        ACCOUNT_REBOUND("account_rebound", "the mailbox was connected again by someone else");

        final String reason;

        final String words;

        Revocation(String reason, String words) {
            this.reason = reason;
            this.words = words;
        }
    }

    /**
     * How long a revoke is remembered: a login whose credentials were checked just before it, and
     * whose session opens just after the revoke looked at the index, is cut off as it opens.
     */
    private static final Duration REMEMBER_REVOKES = Duration.ofMinutes(1);

    private final int maxPerMailbox;

    private final int maxTotal;

    private final BiConsumer<MailLogins.Login, Revocation> onRevoked;

    private final ConcurrentHashMap<String, Set<Lease>> byMailbox = new ConcurrentHashMap<>();

    private final ConcurrentHashMap<String, Set<Lease>> byCredential = new ConcurrentHashMap<>();

    private final AtomicInteger total = new AtomicInteger();

    /** A revoke: when (System.nanoTime) and why. */
    private record Revoke(long atNanos, Revocation why) {
    }

    /** Revoked mailboxes ({@code account:} id) and credentials (id), to their revoke. */
    private final Cache<String, Revoke> recentRevokes = Caffeine.newBuilder()
        .expireAfterWrite(REMEMBER_REVOKES)
        .maximumSize(10_000)
        .build();

    /** {@code onRevoked} is told of every session ended by a revoke, once, to audit it. */
    MailSessions(int maxPerMailbox, int maxTotal, BiConsumer<MailLogins.Login, Revocation> onRevoked) {
        this.maxPerMailbox = maxPerMailbox;
        this.maxTotal = maxTotal;
        this.onRevoked = onRevoked;
    }

    /**
     * A place taken by one session; closing it gives the place back (once). It knows what the
     * session logged in with and, once relaying, the relay to stop when that is revoked.
     */
    final class Lease implements AutoCloseable {

        private final MailLogins.Login login;

        private final AtomicBoolean open = new AtomicBoolean(true);

        // Guarded by this.
        private @Nullable Relay relay;

        private @Nullable Revocation revoked;

        private Lease(MailLogins.Login login) {
            this.login = login;
        }

        /** Relays through {@code started} from now on; stops it at once if revoked already. */
        void relayedBy(Relay started) {
            Revocation already;
            synchronized (this) {
                relay = started;
                already = revoked;
            }
            if (already != null) {
                started.stop(farewell(already));
            }
        }

        /** Ends the session for {@code why}; whether it was this call that did (so it is audited once). */
        boolean revoke(Revocation why) {
            Relay running;
            synchronized (this) {
                if (revoked != null || !open.get()) {
                    return false;
                }
                revoked = why;
                running = relay;
            }
            if (running != null) {
                running.stop(farewell(why));
            }
            onRevoked.accept(login, why);
            return true;
        }

        /**
         * What the client reads last: IMAP allows an untagged BYE at any time (RFC 9051 7.1.5); SMTP
         * has no reply a client expects between commands, so its connection just closes.
         */
        private @Nullable String farewell(Revocation why) {
            return login.protocol().equals("imap") ? "* BYE Postern closed this session: " + why.words : null;
        }

        @Override
        public void close() {
            if (open.compareAndSet(true, false)) {
                release(this);
            }
        }
    }

    /** Which limit refused a session. */
    enum Refusal {
        MAILBOX, TOTAL
    }

    /** A place for a session of {@code accountId}, or why there is none. */
    record Admission(@Nullable Lease lease, @Nullable Refusal refusal) {
    }

    /**
     * A place for the session of {@code login}, whose credentials were checked from
     * {@code checkedSinceNanos} (System.nanoTime) on.
     */
    Admission open(MailLogins.Login login, long checkedSinceNanos) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return new Admission(null, Refusal.TOTAL);
        }
        Lease lease = new Lease(login);
        AtomicBoolean admitted = new AtomicBoolean();
        // The check and the add under the map's lock for this mailbox: two racing logins cannot both pass the last place.
        byMailbox.compute(accountId(lease), (id, current) -> {
            Set<Lease> leases = current == null ? ConcurrentHashMap.newKeySet() : current;
            if (leases.size() < maxPerMailbox) {
                leases.add(lease);
                admitted.set(true);
            }
            return leases.isEmpty() ? null : leases;
        });
        if (!admitted.get()) {
            total.decrementAndGet();
            return new Admission(null, Refusal.MAILBOX);
        }
        byCredential.compute(credentialId(lease), (id, current) -> {
            Set<Lease> leases = current == null ? ConcurrentHashMap.newKeySet() : current;
            leases.add(lease);
            return leases;
        });
        // Indexed first, then the revokes looked at: a revoke either finds this lease or is found here.
        Revocation missed = revokedSince(login, checkedSinceNanos);
        if (missed != null) {
            lease.revoke(missed);
        }
        return new Admission(lease, null);
    }

    /** Ends every session of mailbox {@code accountId}; how many. */
    int revokeMailbox(String accountId, Revocation why) {
        recentRevokes.put("account:" + accountId, new Revoke(System.nanoTime(), why));
        return revoke(byMailbox.get(accountId), lease -> true, why);
    }

    /** Ends every session that logged in with credential {@code credentialId} (an app password or API client id); how many. */
    int revokeCredential(String credentialId, Revocation why) {
        recentRevokes.put(credentialId, new Revoke(System.nanoTime(), why));
        return revoke(byCredential.get(credentialId), lease -> true, why);
    }

    /**
     * Ends the sessions of {@code account} that logged in while another identity held it: after a
     * revoke on another replica, the connect that binds the next holder may be the first this one
     * hears of it.
     */
    int revokeOtherIdentities(Account account) {
        return revoke(byMailbox.get(account.id()), lease -> {
            Account then = lease.login.account();
            return then.identity() != null && !Objects.equals(then.identity(), account.identity());
        }, Revocation.ACCOUNT_REBOUND);
    }

    private static int revoke(@Nullable Set<Lease> leases, Predicate<Lease> matches, Revocation why) {
        if (leases == null) {
            return 0;
        }
        int ended = 0;
        // A copy: revoking does not change the set, but a session ending meanwhile does.
        for (Lease lease : List.copyOf(leases)) {
            if (matches.test(lease) && lease.revoke(why)) {
                ended++;
            }
        }
        return ended;
    }

    private @Nullable Revocation revokedSince(MailLogins.Login login, long checkedSinceNanos) {
        for (String key : List.of("account:" + login.account().id(), login.principal().clientId())) {
            Revoke revoke = recentRevokes.getIfPresent(key);
            if (revoke != null && revoke.atNanos() - checkedSinceNanos >= 0) {
                return revoke.why();
            }
        }
        return null;
    }

    private void release(Lease lease) {
        // Sets that become empty are removed, so the maps hold only mailboxes and credentials with open sessions.
        byMailbox.computeIfPresent(accountId(lease), (id, leases) -> leases.remove(lease) && leases.isEmpty() ? null : leases);
        byCredential.computeIfPresent(credentialId(lease), (id, leases) -> leases.remove(lease) && leases.isEmpty() ? null : leases);
        total.decrementAndGet();
    }

    private static String accountId(Lease lease) {
        return lease.login.account().id();
    }

    private static String credentialId(Lease lease) {
        return lease.login.principal().clientId();
    }

    /** What a client is told when {@code refusal} kept its session out. */
    String message(Refusal refusal) {
        return switch (refusal) {
            case MAILBOX -> "This mailbox already has " + maxPerMailbox
                    + " sessions open through Postern, its limit; close one and try again.";
            case TOTAL -> "Postern's mail proxy is at its limit of " + maxTotal + " open sessions; try again later.";
        };
    }

    /** Sessions of {@code accountId} relayed now. */
    int count(String accountId) {
        Set<Lease> leases = byMailbox.get(accountId);
        return leases == null ? 0 : leases.size();
    }

    int total() {
        return total.get();
    }

    int maxPerMailbox() {
        return maxPerMailbox;
    }
}
