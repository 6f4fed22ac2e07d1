package dev.postern.broker.providers;

import java.net.URI;

import org.jspecify.annotations.Nullable;

/**
 * The parameters of the owner's trip to the provider's authorize endpoint.
 *
 * @param redirectUri the exact registered redirect URI
 * @param state the one-time state bound to the connect link
 * @param codeChallenge the PKCE S256 challenge
 * @param nonce the OpenID Connect nonce
 * @param loginHint the mailbox address to suggest, or {@code null}
 */
public record AuthorizationRequest(URI redirectUri, String state, String codeChallenge, String nonce,
        @Nullable String loginHint) {
}
