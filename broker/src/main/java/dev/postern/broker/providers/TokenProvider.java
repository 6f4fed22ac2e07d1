package dev.postern.broker.providers;

import java.net.URI;

/** One identity provider's side of connecting a mailbox and refreshing its tokens. */
public interface TokenProvider {

    /** Which provider this speaks to. */
    ProviderKind kind();

    /** Where to send the owner's browser to sign in and consent. */
    URI authorizationUrl(ProviderClient client, AuthorizationRequest request);

    /**
     * Exchanges an authorization code (with its PKCE verifier) for the mailbox's first tokens.
     *
     * @throws ProviderException when the provider refuses
     */
    TokenGrant exchangeCode(ProviderClient client, String code, URI redirectUri, String codeVerifier);

    /**
     * A new access token from the stored mailbox state. The returned state may hold a rotated
     * refresh token: it must be stored before the access token is used.
     *
     * @throws ProviderException when the provider refuses or cannot be reached
     */
    TokenGrant refresh(ProviderClient client, MailboxState state);

    /**
     * Asks the provider whether it accepts {@code client}'s credential, with a real token request
     * that changes nothing: Microsoft's client credentials grant; for Google and generic providers
     * a refresh with a made-up refresh token, which a provider answers with {@code invalid_grant}
     * only after it accepted the client's credential, and with {@code invalid_client} when not.
     */
    CredentialCheck verifyCredential(ProviderClient client);
}
