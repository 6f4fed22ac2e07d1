package dev.postern.broker.expiry;

import dev.postern.broker.apps.AppRepository.StoredApp;

/**
 * Gets an app-only access token for Microsoft Graph with an app's own active credential. The
 * broker's is {@link MsalGraphTokenSource}; tests put in a fixed token.
 */
@FunctionalInterface
public interface GraphTokenSource {

    /**
     * An access token for Graph, as the app {@code app} itself.
     *
     * @throws GraphApplicationReader.GraphException when none can be had
     */
    String accessToken(StoredApp app);
}
