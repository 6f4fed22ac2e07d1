package dev.postern.broker.providers;

import java.net.URI;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * An app registration as an identity provider sees it, with the credential to use.
 *
 * @param kind the provider
 * @param tenant the Microsoft tenant, else {@code null}
 * @param clientId the client id
 * @param authorizeEndpoint a generic provider's authorize endpoint, else {@code null}
 * @param tokenEndpoint a generic provider's token endpoint, else {@code null}
 * @param userinfoEndpoint a generic provider's userinfo endpoint, or {@code null}
 * @param scopes the scopes mailbox tokens are asked for
 * @param authentication the credential to prove the client with
 */
public record ProviderClient(ProviderKind kind, @Nullable String tenant, String clientId,
        @Nullable URI authorizeEndpoint, @Nullable URI tokenEndpoint, @Nullable URI userinfoEndpoint,
        List<String> scopes, ClientAuthentication authentication) {

    public ProviderClient {
        scopes = List.copyOf(scopes);
    }
}
