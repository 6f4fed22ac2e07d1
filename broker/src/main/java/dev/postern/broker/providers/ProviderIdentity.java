package dev.postern.broker.providers;

import org.jspecify.annotations.Nullable;

/**
 * Who signed in, as the identity provider vouches for it: what a mailbox is bound to at its first
 * connect. Holds no secret.
 *
 * @param issuer the {@code iss} of the id_token, or {@code null} when the provider sent none
 * @param tenantId the Entra directory id ({@code tid}), {@code null} for other providers
 * @param subject the stable id of the signed-in user: Entra's {@code oid}, else {@code sub}
 */
public record ProviderIdentity(@Nullable String issuer, @Nullable String tenantId, String subject) {
}
