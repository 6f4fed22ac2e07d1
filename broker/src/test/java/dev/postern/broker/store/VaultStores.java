package dev.postern.broker.store;

import java.time.Duration;

import org.springframework.vault.authentication.SimpleSessionManager;
import org.springframework.vault.authentication.TokenAuthentication;
import org.springframework.vault.client.ClientHttpRequestFactoryFactory;
import org.springframework.vault.client.VaultEndpoint;
import org.springframework.vault.core.VaultTemplate;
import org.springframework.vault.support.ClientOptions;
import org.springframework.vault.support.SslConfiguration;

/** Builds {@link VaultSecretStore}s for tests. */
public final class VaultStores {

    private VaultStores() {
    }

    public static VaultTemplate template(String address, String token) {
        return template(address, token, Duration.ofSeconds(5));
    }

    public static VaultTemplate template(String address, String token, Duration readTimeout) {
        return new VaultTemplate(VaultEndpoint.from(java.net.URI.create(address)),
                ClientHttpRequestFactoryFactory.create(new ClientOptions(Duration.ofSeconds(1), readTimeout),
                        SslConfiguration.unconfigured()),
                new SimpleSessionManager(new TokenAuthentication(token)));
    }

    public static VaultSecretStore store(String address, String token, String prefix) {
        VaultSecretStore store = new VaultSecretStore(template(address, token), "secret", prefix, "transit", "postern");
        store.prepare();
        return store;
    }
}
