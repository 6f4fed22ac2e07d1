package dev.postern.broker.providers;

import java.net.URI;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * An app registration as a token endpoint sees it.
 *
 * @param kind the provider
 * @param tenant the Microsoft tenant, else {@code null}
 * @param clientId the client id
 * @param tokenEndpoint the token endpoint for Google and generic providers, else {@code null}
 * @param scopes the scopes mailbox tokens are asked for
 * @param authentication the credential in use
 */
public record ProviderClient(ProviderKind kind, @Nullable String tenant, String clientId,
        @Nullable URI tokenEndpoint, List<String> scopes, ClientAuthentication authentication) {
}
