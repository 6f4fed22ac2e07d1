package dev.postern.broker.mailproxy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;

/**
 * The logged-in sessions the proxy relays, counted per mailbox and in total, within
 * {@code max-sessions-per-mailbox} and {@code max-sessions}. Providers limit concurrent IMAP
 * connections per mailbox (Gmail 15, Microsoft 20); a program that leaks connections through
 * Postern is stopped here with a clear answer rather than by the provider with an obscure one.
 */
final class MailSessions {

    private final int maxPerMailbox;

    private final int maxTotal;

    private final ConcurrentHashMap<String, AtomicInteger> perMailbox = new ConcurrentHashMap<>();

    private final AtomicInteger total = new AtomicInteger();

    MailSessions(int maxPerMailbox, int maxTotal) {
        this.maxPerMailbox = maxPerMailbox;
        this.maxTotal = maxTotal;
    }

    /** A place taken by one session; closing it gives the place back (once). */
    final class Lease implements AutoCloseable {

        private final String accountId;

        private final AtomicBoolean open = new AtomicBoolean(true);

        private Lease(String accountId) {
            this.accountId = accountId;
        }

        @Override
        public void close() {
            if (open.compareAndSet(true, false)) {
                release(accountId);
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

    Admission open(String accountId) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return new Admission(null, Refusal.TOTAL);
        }
        AtomicBoolean admitted = new AtomicBoolean();
        // The check and the increment under the map's lock for this mailbox: two racing logins cannot both pass the last place.
        perMailbox.compute(accountId, (id, current) -> {
            AtomicInteger counter = current == null ? new AtomicInteger() : current;
            if (counter.get() < maxPerMailbox) {
                counter.incrementAndGet();
                admitted.set(true);
            }
            return counter.get() == 0 ? null : counter;
        });
        if (!admitted.get()) {
            total.decrementAndGet();
            return new Admission(null, Refusal.MAILBOX);
        }
        return new Admission(new Lease(accountId), null);
    }

    private void release(String accountId) {
        // Counters that drop to zero are removed, so the map holds only mailboxes with open sessions.
        perMailbox.computeIfPresent(accountId, (id, counter) -> counter.decrementAndGet() <= 0 ? null : counter);
        total.decrementAndGet();
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
        AtomicInteger count = perMailbox.get(accountId);
        return count == null ? 0 : count.get();
    }

    int total() {
        return total.get();
    }

    int maxPerMailbox() {
        return maxPerMailbox;
    }
}
