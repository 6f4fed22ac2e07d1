package dev.postern.broker.access;

import java.time.Instant;
import java.util.List;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.Role;

/**
 * A caller of the v1 API. The key itself is never kept; {@code keyPrefix} identifies it in lists.
 *
 * @param id the client id, derived from the key's hash
 * @param name a human name
 * @param role what it may do
 * @param allowedApps apps whose mailboxes a {@code client} may get tokens for
 * @param allowedAccounts mailboxes a {@code client} may get tokens for
 * @param keyPrefix the public start of its key
 * @param createdAt when it was created
 * @param expiresAt when its key stops working, or {@code null} for never
 * @param revokedAt when it was revoked, or {@code null}
 */
public record ApiClient(String id, String name, Role role, List<String> allowedApps, List<String> allowedAccounts,
        String keyPrefix, Instant createdAt, @Nullable Instant expiresAt, @Nullable Instant revokedAt) {

    public ApiClient {
        allowedApps = List.copyOf(allowedApps);
        allowedAccounts = List.copyOf(allowedAccounts);
    }

    /** Whether the key works at {@code now}. */
    public boolean isUsableAt(Instant now) {
        return revokedAt == null && (expiresAt == null || now.isBefore(expiresAt));
    }
}
