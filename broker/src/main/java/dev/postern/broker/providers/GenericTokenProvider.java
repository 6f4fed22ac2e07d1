package dev.postern.broker.providers;

import java.net.URI;
import java.time.Clock;

import org.springframework.stereotype.Component;

/** Any OAuth2 provider, with the endpoints registered on the app. */
@Component
class GenericTokenProvider extends OAuth2TokenProvider {

    GenericTokenProvider(ProviderHttp http, Clock clock) {
        super(http, clock);
    }

    @Override
    public ProviderKind kind() {
        return ProviderKind.GENERIC;
    }

    @Override
    protected URI authorizeEndpoint(ProviderClient client) {
        return client.authorizeEndpoint();
    }

    @Override
    protected URI tokenEndpoint(ProviderClient client) {
        return client.tokenEndpoint();
    }
}
