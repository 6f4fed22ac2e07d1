package dev.postern.broker.access;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Repository;

import dev.postern.broker.Role;
import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.store.StoredDocument;

/** Keeps API clients in the store under {@code clients/}, with their key hash as a secret field. */
@Repository
public class ApiClientRepository {

    static final String KEY_HASH = "key_hash";

    private final KeyDirectory store;

    public ApiClientRepository(KeyDirectory store) {
        this.store = store;
    }

    /** A client with its stored key hash and version. */
    public record StoredClient(ApiClient client, String keyHash, long version) {
    }

    public Optional<StoredClient> find(String clientId) {
        if (!SecretPath.isValidId(clientId)) {
            return Optional.empty();
        }
        return store.read(SecretPath.of(StoreCollection.CLIENTS, clientId)).map(ApiClientRepository::toClient);
    }

    /** A page of clients in id order after the id {@code after}: {@code limit} reads, the keys from the key directory. */
    public StorePage<ApiClient> page(@org.jspecify.annotations.Nullable String after, int limit) {
        return StorePage.read(store, SecretPath.of(StoreCollection.CLIENTS), after, limit,
                stored -> Optional.of(toClient(stored).client()), client -> true);
    }

    /** Every client: a LIST and one read per client (revoking an admin counts the usable ones). */
    public List<ApiClient> findAll() {
        List<ApiClient> clients = new ArrayList<>();
        for (String id : store.list(SecretPath.of(StoreCollection.CLIENTS))) {
            find(id).ifPresent(stored -> clients.add(stored.client()));
        }
        return clients;
    }

    /** Creates a client whose key hashes to {@code keyHash}; fails when its id exists already. */
    public void create(ApiClient client, String keyHash) {
        store.write(path(client.id()), toDocument(client, keyHash), SecretStore.NEW);
    }

    /** Saves a changed client over the version that was read. */
    public void update(StoredClient stored, ApiClient changed) {
        store.write(path(changed.id()), toDocument(changed, stored.keyHash()), stored.version());
    }

    private static SecretPath path(String clientId) {
        return SecretPath.of(StoreCollection.CLIENTS, clientId);
    }

    private static SecretDocument toDocument(ApiClient client, String keyHash) {
        Map<String, Object> data = new HashMap<>();
        data.put("id", client.id());
        data.put("name", client.name());
        data.put("role", client.role().name());
        data.put("allowed_apps", client.allowedApps());
        data.put("allowed_accounts", client.allowedAccounts());
        data.put("key_prefix", client.keyPrefix());
        data.put("created_at", client.createdAt().toString());
        if (client.expiresAt() != null) {
            data.put("expires_at", client.expiresAt().toString());
        }
        if (client.revokedAt() != null) {
            data.put("revoked_at", client.revokedAt().toString());
        }
        return new SecretDocument(data, Map.of(KEY_HASH, keyHash));
    }

    @SuppressWarnings("unchecked")
    private static StoredClient toClient(StoredDocument stored) {
        Map<String, Object> data = stored.document().data();
        ApiClient client = new ApiClient((String) data.get("id"), (String) data.get("name"),
                Role.valueOf((String) data.get("role")), (List<String>) data.getOrDefault("allowed_apps", List.of()),
                (List<String>) data.getOrDefault("allowed_accounts", List.of()), (String) data.get("key_prefix"),
                Instant.parse((String) data.get("created_at")), instant(data.get("expires_at")),
                instant(data.get("revoked_at")));
        return new StoredClient(client, stored.document().secret(KEY_HASH), stored.version());
    }

    private static Instant instant(Object value) {
        return value == null ? null : Instant.parse(value.toString());
    }
}
