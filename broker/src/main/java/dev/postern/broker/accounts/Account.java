package dev.postern.broker.accounts;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;

/**
 * A connected mailbox. Its refresh token (or msal4j token cache) and latest access token live in
 * the store's secret fields, never here.
 *
 * @param id its id
 * @param appId the app it was connected through
 * @param provider the app's provider
 * @param mailbox the mailbox address, lower case: the XOAUTH2 user
 * @param status {@code active}, {@code reauth_required} or {@code revoked}
 * @param scope the granted scopes
 * @param createdAt when it was first connected
 * @param connectedAt when the owner last connected it
 * @param lastRefreshAt when its refresh token was last used
 * @param lastError the last failure, or {@code null}
 * @param identity who connected it, which every reconnect must match; {@code null} for an account
 *        connected before Postern recorded it, bound at its next connect
 */
public record Account(String id, String appId, ProviderKind provider, String mailbox, Status status, String scope,
        Instant createdAt, Instant connectedAt, @Nullable Instant lastRefreshAt, @Nullable AccountError lastError,
        @Nullable ProviderIdentity identity) {

    /** Where a mailbox stands. */
    public enum Status {
        ACTIVE, REAUTH_REQUIRED, REVOKED
    }

    /**
     * A failure seen for a mailbox.
     *
     * @param code the OAuth error code or broker code
     * @param description what happened, in words, never a secret
     * @param at when
     */
    public record AccountError(String code, String description, Instant at) {
    }

    public Account withStatus(Status newStatus, @Nullable AccountError error) {
        return new Account(id, appId, provider, mailbox, newStatus, scope, createdAt, connectedAt, lastRefreshAt, error,
                identity);
    }

    public Account refreshed(Instant at, String newScope) {
        return new Account(id, appId, provider, mailbox, Status.ACTIVE, newScope, createdAt, connectedAt, at, null,
                identity);
    }

    /** Connected again by {@code by}: the same identity, or the first one recorded, or a rebind after a revoke. */
    public Account reconnected(Instant at, String newScope, ProviderIdentity by) {
        return new Account(id, appId, provider, mailbox, Status.ACTIVE, newScope, createdAt, at, at, null, by);
    }
}
