package dev.postern.broker.providers;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.springframework.stereotype.Service;

/** Finds the {@link TokenProvider} of a provider kind. */
@Service
public class TokenProviders {

    private final Map<ProviderKind, TokenProvider> providers = new EnumMap<>(ProviderKind.class);

    public TokenProviders(List<TokenProvider> all) {
        all.forEach(provider -> providers.put(provider.kind(), provider));
    }

    public TokenProvider forKind(ProviderKind kind) {
        TokenProvider provider = providers.get(kind);
        if (provider == null) {
            throw new IllegalStateException("no token provider for " + kind);
        }
        return provider;
    }
}
