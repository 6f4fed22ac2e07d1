package dev.postern.broker.providers.microsoft;

import dev.postern.broker.providers.ProviderClient;

/**
 * Gets an app-only access token for Microsoft Graph as an app itself. The broker's is
 * {@link MicrosoftTokenProvider#graphTokenSource}; tests put in a fixed token.
 */
@FunctionalInterface
public interface GraphTokenSource {

    /**
     * An access token for Graph, as {@code app} (with the credential it carries).
     *
     * @throws dev.postern.broker.providers.ProviderException when Microsoft refuses or cannot be reached
     * @throws IllegalArgumentException when the app's private key or certificate is not PEM
     */
    String accessToken(ProviderClient app);
}
