package dev.postern.broker.apps;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.stereotype.Repository;

import dev.postern.broker.providers.ClientAuthentication;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.store.DocumentMapping;
import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.store.StoredDocument;

/**
 * Keeps each app in one store document {@code apps/{id}}: its registration and credentials as
 * data, each credential's secret value or private key as a secret field named by the credential
 * id. One document per app means one compare-and-set decides every rotation.
 */
@Repository
public class AppRepository {

    /** How long {@link #findRecent} trusts a read: another replica's rotation shows here within that time. */
    static final Duration RECENT = Duration.ofSeconds(30);

    private final KeyDirectory store;

    /** Apps as read for token refreshes, kept {@link #RECENT}; every write and delete here drops its entry. */
    private final Cache<String, Optional<StoredApp>> recent = Caffeine.newBuilder()
        .expireAfterWrite(RECENT)
        .maximumSize(100_000)
        .build();

    public AppRepository(KeyDirectory store) {
        this.store = store;
    }

    /**
     * An app as read, with its credential secrets and the version a write must name.
     *
     * @param app the registration
     * @param secrets each credential's secret value or private key PEM, by credential id
     * @param version the store version
     */
    public record StoredApp(AppRegistration app, Map<String, String> secrets, long version) {

        public StoredApp {
            secrets = Map.copyOf(secrets);
        }

        /**
         * How the provider sees this app with {@code credential}: its endpoints and scopes, and the
         * credential's stored secret or private key.
         *
         * @throws IllegalStateException when the credential has no stored secret
         */
        public ProviderClient providerClient(Credential credential) {
            String secret = secrets.get(credential.id());
            if (secret == null) {
                throw new IllegalStateException("credential " + credential.id() + " has no stored secret");
            }
            ClientAuthentication authentication = credential.type() == Credential.CredentialType.CLIENT_SECRET
                    ? new ClientAuthentication.Secret(secret)
                    : new ClientAuthentication.Certificate(secret, credential.certificate().pem());
            return new ProviderClient(app.provider(), app.tenant(), app.clientId(), app.authorizeEndpoint(),
                    app.tokenEndpoint(), app.userinfoEndpoint(), app.scopes(), authentication);
        }

        /** How the provider sees this app with its active credential; empty when it has none. */
        public Optional<ProviderClient> activeProviderClient() {
            return app.activeCredential().map(this::providerClient);
        }

        @Override
        public String toString() {
            return "StoredApp[app=" + app.id() + ", version=" + version + ", secrets=(redacted)]";
        }
    }

    public Optional<StoredApp> find(String appId) {
        if (!SecretPath.isValidId(appId)) {
            return Optional.empty();
        }
        return store.read(path(appId)).map(this::toStoredApp);
    }

    /**
     * The app as read within {@link #RECENT}: a token refresh reads its app from the store at most
     * once per period. Retired credentials stay usable during a rotation's overlap, so an app a few
     * seconds old still refreshes; {@link #forgetRecent} drops it after the provider rejected its credentials.
     */
    public Optional<StoredApp> findRecent(String appId) {
        return recent.get(appId, this::find);
    }

    /** Makes the next {@link #findRecent} of {@code appId} read the store. */
    public void forgetRecent(String appId) {
        recent.invalidate(appId);
    }

    /** A page of apps in id order after the id {@code after}: {@code limit} reads, the keys from the key directory. */
    public StorePage<AppRegistration> page(@org.jspecify.annotations.Nullable String after, int limit) {
        return StorePage.read(store, SecretPath.of(StoreCollection.APPS), after, limit,
                stored -> Optional.of(toStoredApp(stored).app()), app -> true);
    }

    /** Every app: a LIST and one read per app, for background work only (the expiry scan). */
    public List<AppRegistration> findAll() {
        return StorePage.readAll(store, SecretPath.of(StoreCollection.APPS), stored -> Optional.of(toStoredApp(stored).app()));
    }

    /** Writes {@code app} with {@code secrets} over {@code expectedVersion} ({@link SecretStore#NEW} to create). */
    public long save(AppRegistration app, Map<String, String> secrets, long expectedVersion) {
        Map<String, Object> data = DocumentMapping.toData(app);
        try {
            return store.write(path(app.id()), new SecretDocument(data, new HashMap<>(secrets)), expectedVersion);
        }
        finally {
            recent.invalidate(app.id());
        }
    }

    public void delete(String appId) {
        store.delete(path(appId));
        recent.invalidate(appId);
    }

    private StoredApp toStoredApp(StoredDocument stored) {
        AppRegistration app = DocumentMapping.fromData(stored.document().data(), AppRegistration.class);
        return new StoredApp(app, stored.document().secrets(), stored.version());
    }

    private static SecretPath path(String appId) {
        return SecretPath.of(StoreCollection.APPS, appId);
    }
}
