package dev.postern.broker.connect;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Repository;

import dev.postern.broker.store.DocumentMapping;
import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoredDocument;

/**
 * Keeps connect links in {@code connect-links/{id}}; the sign-in attempt's state, PKCE verifier
 * and browser binding are secret fields, written with CAS so a link is used once.
 */
@Repository
class ConnectLinkRepository {

    private final SecretStore store;

    ConnectLinkRepository(SecretStore store) {
        this.store = store;
    }

    /**
     * The secrets of a started sign-in.
     *
     * @param state the OAuth state sent to the provider
     * @param codeVerifier the PKCE verifier
     * @param browserBinding the value of the cookie set on the owner's browser
     */
    record Attempt(String state, String codeVerifier, String browserBinding) {

        @Override
        public String toString() {
            return "Attempt[(redacted)]";
        }
    }

    record StoredLink(ConnectLink link, @Nullable Attempt attempt, long version) {
    }

    Optional<StoredLink> find(String linkId) {
        if (!SecretPath.isValidId(linkId)) {
            return Optional.empty();
        }
        return store.read(path(linkId)).map(this::toStored);
    }

    long save(ConnectLink link, @Nullable Attempt attempt, long expectedVersion) {
        Map<String, String> secrets = new HashMap<>();
        if (attempt != null) {
            secrets.put("state", attempt.state());
            secrets.put("code_verifier", attempt.codeVerifier());
            secrets.put("browser_binding", attempt.browserBinding());
        }
        return store.write(path(link.id()), new SecretDocument(DocumentMapping.toData(link), secrets), expectedVersion);
    }

    private StoredLink toStored(StoredDocument stored) {
        ConnectLink link = DocumentMapping.fromData(stored.document().data(), ConnectLink.class);
        Map<String, String> secrets = stored.document().secrets();
        Attempt attempt = secrets.containsKey("state")
                ? new Attempt(secrets.get("state"), secrets.get("code_verifier"), secrets.get("browser_binding")) : null;
        return new StoredLink(link, attempt, stored.version());
    }

    private static SecretPath path(String linkId) {
        return SecretPath.of(StoreCollection.CONNECT_LINKS, linkId);
    }
}
