package dev.postern.broker.providers;

import java.time.Instant;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * What a provider handed out for a mailbox.
 *
 * @param accessToken the access token
 * @param expiresAt when it expires
 * @param scope the granted scopes, space separated
 * @param mailboxState what must be stored to refresh later: the refresh token, or msal4j's
 *        serialized token cache for Microsoft
 * @param username the mailbox address the provider vouches for (Entra: {@code preferred_username} or
 *        {@code upn}; others: {@code email} with {@code email_verified: true}), or {@code null}
 * @param identity who signed in (issuer, tenant, subject), or {@code null} when the answer did not say
 * @param claims the identity claims read (such as {@code tid} or an unverified {@code email}), never a token
 */
public record TokenGrant(String accessToken, Instant expiresAt, String scope, MailboxState mailboxState,
        @Nullable String username, @Nullable ProviderIdentity identity, Map<String, String> claims) {

    public TokenGrant {
        claims = Map.copyOf(claims);
    }

    @Override
    public String toString() {
        return "TokenGrant[expiresAt=" + expiresAt + ", scope=" + scope + ", username=" + username + ", tokens=(redacted)]";
    }
}
