package dev.postern.broker.connect;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
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
 * Keeps connect links in {@code connect-links/{hash}}, named by the SHA-256 of the link secret so
 * that neither a KV listing nor a store path reveals a usable link; the sign-in attempt's state,
 * PKCE verifier and browser binding are secret fields, written with CAS so a link is used once.
 */
@Repository
class ConnectLinkRepository {

    /** The prefix of link document ids. */
    static final String PREFIX = "lnh_";

    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

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

    /** The link stored under {@code documentId} (a {@link ConnectLink#id()}). */
    Optional<StoredLink> find(String documentId) {
        if (!SecretPath.isValidId(documentId) || !documentId.startsWith(PREFIX)) {
            return Optional.empty();
        }
        return store.read(path(documentId)).map(this::toStored);
    }

    /** The link whose URL carries {@code secret}. */
    Optional<StoredLink> findBySecret(String secret) {
        return SecretPath.isValidId(secret) ? find(documentId(secret)) : Optional.empty();
    }

    /** The store id of the link with {@code secret}: {@code lnh_} and the base32 SHA-256 of the secret (56 characters). */
    static String documentId(String secret) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
        StringBuilder id = new StringBuilder(PREFIX);
        long bits = 0;
        int available = 0;
        for (byte b : digest) {
            bits = (bits << 8) | (b & 0xff);
            available += 8;
            while (available >= 5) {
                available -= 5;
                id.append(BASE32[(int) ((bits >> available) & 31)]);
            }
        }
        if (available > 0) {
            id.append(BASE32[(int) ((bits << (5 - available)) & 31)]);
        }
        return id.toString();
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

    private static SecretPath path(String documentId) {
        return SecretPath.of(StoreCollection.CONNECT_LINKS, documentId);
    }
}
