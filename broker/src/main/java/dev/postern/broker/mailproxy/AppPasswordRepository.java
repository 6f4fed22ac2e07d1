package dev.postern.broker.mailproxy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.stereotype.Repository;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoredDocument;

/** Keeps app passwords under {@code app-passwords/{account_id}/{id}}, the hash as a secret field. */
@Repository
class AppPasswordRepository {

    static final String PASSWORD_HASH = "password_hash";

    private final SecretStore store;

    AppPasswordRepository(SecretStore store) {
        this.store = store;
    }

    /** A stored app password with the hash of its secret. */
    record StoredAppPassword(AppPassword password, String hash) {
    }

    Optional<StoredAppPassword> find(String accountId, String id) {
        if (!SecretPath.isValidId(accountId) || !SecretPath.isValidId(id)) {
            return Optional.empty();
        }
        return store.read(path(accountId, id)).map(AppPasswordRepository::toStored);
    }

    /** The app passwords of one mailbox: a handful each, so one list and a read per entry. */
    List<AppPassword> findAll(String accountId) {
        List<AppPassword> passwords = new ArrayList<>();
        for (String id : store.list(SecretPath.of(StoreCollection.APP_PASSWORDS, accountId))) {
            find(accountId, id).ifPresent(stored -> passwords.add(stored.password()));
        }
        return passwords;
    }

    void create(AppPassword password, String hash) {
        store.write(path(password.accountId(), password.id()), toDocument(password, hash), SecretStore.NEW);
    }

    void delete(String accountId, String id) {
        store.delete(path(accountId, id));
    }

    private static SecretPath path(String accountId, String id) {
        return SecretPath.of(StoreCollection.APP_PASSWORDS, accountId, id);
    }

    private static SecretDocument toDocument(AppPassword password, String hash) {
        Map<String, Object> data = new HashMap<>();
        data.put("id", password.id());
        data.put("account_id", password.accountId());
        if (password.name() != null) {
            data.put("name", password.name());
        }
        data.put("created_at", password.createdAt().toString());
        if (password.expiresAt() != null) {
            data.put("expires_at", password.expiresAt().toString());
        }
        return new SecretDocument(data, Map.of(PASSWORD_HASH, hash));
    }

    private static StoredAppPassword toStored(StoredDocument stored) {
        Map<String, Object> data = stored.document().data();
        Object expiresAt = data.get("expires_at");
        AppPassword password = new AppPassword((String) data.get("id"), (String) data.get("account_id"),
                (String) data.get("name"), Instant.parse((String) data.get("created_at")),
                expiresAt == null ? null : Instant.parse(expiresAt.toString()));
        return new StoredAppPassword(password, stored.document().secret(PASSWORD_HASH));
    }
}
