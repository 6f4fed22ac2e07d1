package dev.postern.broker.providers;

import java.net.URI;
import java.time.Clock;
import java.util.Map;

import org.springframework.stereotype.Component;

/** Google (Gmail): its fixed endpoints, and offline access with consent so a refresh token comes back. */
@Component
class GoogleTokenProvider extends OAuth2TokenProvider {

    private final ProvidersProperties properties;

    GoogleTokenProvider(ProviderHttp http, Clock clock, ProvidersProperties properties) {
        super(http, clock);
        this.properties = properties;
    }

    @Override
    public ProviderKind kind() {
        return ProviderKind.GOOGLE;
    }

    @Override
    protected URI authorizeEndpoint(ProviderClient client) {
        return properties.googleAuthorizeEndpoint();
    }

    @Override
    protected URI tokenEndpoint(ProviderClient client) {
        return properties.googleTokenEndpoint();
    }

    @Override
    protected Map<String, String> extraAuthorizeParameters() {
        return Map.of("access_type", "offline", "prompt", "consent");
    }
}
