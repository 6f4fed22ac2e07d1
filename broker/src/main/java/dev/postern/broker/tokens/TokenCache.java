package dev.postern.broker.tokens;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountRepository.StoredAccessToken;

/**
 * Access tokens in memory, one per mailbox, and when each was last handed out. An entry holds the
 * account's {@link StoredAccessToken} as the account cache holds it (the token packed, see
 * {@link dev.postern.broker.accounts.PackedToken}) and the mailbox address, not copies: the
 * {@link IssuedToken} a caller gets is made on each use.
 */
@Component
class TokenCache {

    /**
     * A token in memory and when it was last handed out. Times are epoch milliseconds, not
     * {@code Instant}s: 48 bytes less per mailbox, and a use writes a number instead of allocating.
     */
    private static final class CachedToken {

        final StoredAccessToken token;

        final String username;

        final long receivedAt;

        volatile long lastUsed;

        CachedToken(StoredAccessToken token, String username, Instant receivedAt) {
            this.token = token;
            this.username = username;
            this.receivedAt = receivedAt.toEpochMilli();
            this.lastUsed = this.receivedAt;
        }

        /** How long before expiry to refresh: the configured time, or a third of a short token's life. */
        Duration refreshWindow(Duration refreshAhead) {
            Duration third = Duration.ofMillis(token.expiresAt().toEpochMilli() - receivedAt).dividedBy(3);
            return third.compareTo(refreshAhead) < 0 ? third : refreshAhead;
        }
    }

    /**
     * A token in use that comes close to expiry.
     *
     * @param accountId its mailbox's account
     * @param window the lifetime a refreshed token must have
     */
    record Due(String accountId, Duration window) {
    }

    private final Cache<String, CachedToken> tokens = Caffeine.newBuilder().maximumSize(100_000).build();

    /** The token of {@code accountId} when it has {@code minTtl} left at {@code now}, marked as used; else null. */
    @Nullable IssuedToken use(String accountId, Instant now, Duration minTtl) {
        CachedToken cached = tokens.getIfPresent(accountId);
        if (cached == null || !cached.token.expiresAt().isAfter(now.plus(minTtl))) {
            return null;
        }
        cached.lastUsed = now.toEpochMilli();
        return issued(accountId, cached.token, cached.username);
    }

    /** Keeps {@code token}, received at {@code receivedAt}, as the token of {@code account}, and returns it as issued. */
    IssuedToken put(Account account, StoredAccessToken token, Instant receivedAt) {
        tokens.put(account.id(), new CachedToken(token, account.mailbox(), receivedAt));
        return issued(account.id(), token, account.mailbox());
    }

    private static IssuedToken issued(String accountId, StoredAccessToken token, String username) {
        return new IssuedToken(accountId, token.value(), token.expiresAt(), token.scope(), username);
    }
    void forget(String accountId) {
        tokens.invalidate(accountId);
    }

    /**
     * Tokens handed out within {@code inUseWindow} that expire within their refresh window (the
     * configured {@code refreshAhead}, or a third of a short token's life).
     */
    List<Due> dueForRefresh(Instant now, Duration refreshAhead, Duration inUseWindow) {
        List<Due> due = new ArrayList<>();
        tokens.asMap().forEach((accountId, cached) -> {
            Duration window = cached.refreshWindow(refreshAhead);
            if (cached.lastUsed > now.minus(inUseWindow).toEpochMilli() && cached.token.expiresAt().isBefore(now.plus(window))) {
                due.add(new Due(accountId, window));
            }
        });
        return due;
    }
}
