package dev.postern.broker.accounts;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import dev.postern.broker.accounts.AccountRepository.StoredAccount;
import dev.postern.broker.store.StoreUnavailableException;

/**
 * The broker's one cache of accounts: each as this replica last read or wrote it, with its version
 * and secrets. Kept by {@link AccountService} only, which updates it with every read and write.
 * <ul>
 * <li>Metadata (status, app) is trusted for {@link #FRESH} after the read, so another replica's
 * revoke shows here within that time; while the store is unavailable, for {@link #STALE_IF_STORE_DOWN}.
 * <li>A refresh starts from the entry whatever its age: its lease is taken with a CAS write on the
 * entry's version, which fails when anyone wrote the account since. A mailbox that this replica
 * refreshed last therefore costs no store read on its next refresh (docs/performance.md).
 * </ul>
 */
@Component
class AccountCache {

    /** How long a read account's metadata is trusted. */
    static final Duration FRESH = Duration.ofSeconds(30);

    /** How old an account may be and still be trusted while the store cannot be read. */
    static final Duration STALE_IF_STORE_DOWN = Duration.ofMinutes(15);

    /**
     * @param readAt when the store last gave or took this version, in epoch milliseconds
     * @param trustedUntil until when its metadata is used without asking the store, in epoch
     *        milliseconds (numbers, not {@code Instant}s: 48 bytes less per mailbox)
     */
    private record Entry(StoredAccount stored, long readAt, long trustedUntil) {
    }

    /** Bounded like the token cache: one entry per mailbox in use. */
    private final Cache<String, Entry> entries = Caffeine.newBuilder().maximumSize(100_000).build();

    private final Clock clock;

    AccountCache(Clock clock) {
        this.clock = clock;
    }

    /** The entry of {@code accountId} if read or written within {@link #FRESH}. */
    Optional<StoredAccount> fresh(String accountId) {
        Entry entry = entries.getIfPresent(accountId);
        return entry != null && entry.trustedUntil() > clock.millis() ? Optional.of(entry.stored())
                : Optional.empty();
    }

    /** The entry of {@code accountId} whatever its age, as the base of a CAS write. */
    Optional<StoredAccount> any(String accountId) {
        return Optional.ofNullable(entries.getIfPresent(accountId)).map(Entry::stored);
    }

    /**
     * The entry of {@code accountId} when {@code read} failed because the store is unavailable:
     * nobody can change an account meanwhile, so the last read serves cached tokens.
     *
     * @throws StoreUnavailableException {@code failure}, when there is no entry recent enough
     */
    StoredAccount duringOutage(String accountId, StoreUnavailableException failure) {
        Entry last = entries.getIfPresent(accountId);
        long now = clock.millis();
        if (last == null || last.readAt() + STALE_IF_STORE_DOWN.toMillis() <= now) {
            throw failure;
        }
        // Trusted again for one period, counted from the last real read: one request per account
        // and period waits for the store, not every one, and never beyond STALE_IF_STORE_DOWN.
        entries.put(accountId, new Entry(last.stored(), last.readAt(), now + FRESH.toMillis()));
        return last.stored();
    }

    void put(StoredAccount stored) {
        long now = clock.millis();
        entries.put(stored.account().id(), new Entry(stored, now, now + FRESH.toMillis()));
    }

    void forget(String accountId) {
        entries.invalidate(accountId);
    }

    /**
     * After a connect or revoke, or a status change that makes tokens unusable, the next use reads
     * the account: what was cached of its tokens belongs to an older connection. Refreshes keep
     * their entry, which is the account as just written.
     */
    @EventListener
    void onAccountChanged(AccountChangedEvent event) {
        if (event.dropsTokens()) {
            forget(event.account().id());
        }
    }
}
