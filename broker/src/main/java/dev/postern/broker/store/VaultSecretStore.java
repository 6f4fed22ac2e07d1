package dev.postern.broker.store;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.vault.VaultException;
import org.springframework.vault.core.RestOperationsCallback;
import org.springframework.vault.core.VaultOperations;
import org.springframework.vault.support.VaultHealth;
import org.springframework.web.client.HttpStatusCodeException;
import org.springframework.web.client.ResourceAccessException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The store on HashiCorp Vault or OpenBao: each document is a KV v2 secret written with
 * {@code cas} on the version that was read, holding {@code format} ({@value #FORMAT}),
 * {@code data} (the document's metadata as one JSON string), {@code key}, {@code secrets} and
 * {@code mac}: envelope encryption, so a write is one KV call and no Transit call. {@code key} is
 * a data key that Transit generated and wrapped with the derived key {@code <transit-key>-v2}
 * ({@code transit/datakey}, under a context naming this store's KV location); each replica uses
 * one until {@link StoreProperties.DataKeyLimits} says to replace it ({@link DataKeys}). Each
 * secret value is AES-256-GCM under that key with the document's location and the field's name as
 * associated data, so a ciphertext moved to another document or field does not decrypt.
 * {@code mac} is an HMAC-SHA256 under a subkey of the same data key ({@link DataKey}) over the
 * location, the KV version being written, the {@code data} string, the wrapped key and every
 * ciphertext, checked on every read: someone with KV rights but no Transit rights can delete or
 * corrupt a document, never change what Postern reads from it, because only Transit turns a
 * wrapped key into the key that MACs. A document that fails a check raises
 * {@link DocumentIntegrityException} and is never used. A read unwraps a key it has not seen
 * ({@code transit/decrypt}) once and keeps it ({@link DataKeys}): a read of a document whose key is
 * known costs the KV read only.
 *
 * <p>Documents in the previous format {@value #FORMAT_V2} (secrets encrypted at Transit, a Transit
 * HMAC) are still read, with a Transit {@code verify} and {@code decrypt}; any write rewrites a
 * document in the current format.
 *
 * <p>Documents written before this format (no {@code format}, secrets under the non-derived key
 * {@code <transit-key>}, no MAC) are read only when KV says they were written before the
 * {@code -v2} key was created: that instant comes from Transit, which a KV writer cannot change,
 * so a legacy-looking document planted later is refused. {@link #prepare()} rewrites every legacy
 * document in the new format once ({@link #FORMAT_MARKER} records that it ran), and any write
 * upgrades the document it writes.
 *
 * <p>Plaintexts of {@value #FORMAT_V2} ciphertexts this process recently decrypted, and unwrapped
 * data keys, are kept in memory for {@link #PLAINTEXT_CACHE_TTL} ({@link #PLAINTEXT_CACHE_BYTES}
 * and {@link DataKeys#MAX_UNWRAPPED} keys at most): the same plaintexts are in this process's
 * memory anyway while they are used (access tokens in the token cache, secrets in provider
 * clients); the price is that Transit rights taken away from Postern stop decrypting after that
 * time, not at once, and that a replica's own data key serves until it is replaced (SECURITY.md).
 *
 * <p>KV and Transit are called through spring-vault's authenticated session rather than its
 * typed templates because the store must tell a CAS conflict (400), a sealed Vault (503) and a
 * missing right (403) apart by HTTP status, which the templates fold into one exception.
 */
public final class VaultSecretStore implements SecretStore {

    private static final Logger log = LoggerFactory.getLogger(VaultSecretStore.class);

    private static final ParameterizedTypeReference<Map<String, Object>> JSON_OBJECT = new ParameterizedTypeReference<>() {
    };

    private static final TypeReference<Map<String, Object>> JSON_MAP = new TypeReference<>() {
    };

    static final Duration PLAINTEXT_CACHE_TTL = Duration.ofMinutes(10);

    static final long PLAINTEXT_CACHE_BYTES = 32L * 1024 * 1024;

    /** The value of {@code format} in documents with a wrapped data key, local ciphertexts and a local MAC. */
    static final String FORMAT = "3";

    /** The value of {@code format} in documents with Transit ciphertexts and a Transit MAC; read, never written. */
    static final String FORMAT_V2 = "2";

    /** Records that {@link #prepare()} migrated this store's legacy documents; only saves the walk. */
    static final SecretPath FORMAT_MARKER = SecretPath.of(StoreCollection.SYSTEM, "store-format");

    private static final String MAC_DOMAIN_V2 = "postern-document-v2";

    private static final String MAC_DOMAIN = "postern-document-v3";

    private static final String SECRET_DOMAIN = "postern-secret-v3";

    private static final String DATA_KEY_DOMAIN = "postern-data-key-v3";

    /**
     * {@value #FORMAT_V2} MAC inputs (as a digest) with the MAC that Transit confirmed, for as long as a plaintext is
     * cached: a document read again at the same version costs no Transit call. Keyed by content,
     * not by (path, version), because a KV writer can delete a document's history and write a
     * different one at a version number seen before.
     */
    private final Cache<String, Boolean> verifiedMacs = Caffeine.newBuilder()
        .expireAfterWrite(PLAINTEXT_CACHE_TTL)
        .maximumSize(100_000)
        .build();

    /** Refusals already logged, so a document read in a loop warns once. */
    private final Cache<String, Boolean> reportedRefusals = Caffeine.newBuilder().maximumSize(10_000).build();

    /** When the {@code -v2} key was created; legacy documents written later are refused. Null until known. */
    private volatile Instant upgradedAt;

    private final JsonMapper json = JsonMapper.builder().build();

    private final Cache<String, String> plaintexts = Caffeine.newBuilder()
        .expireAfterWrite(PLAINTEXT_CACHE_TTL)
        .maximumWeight(PLAINTEXT_CACHE_BYTES)
        .weigher((String ciphertext, String plaintext) -> ciphertext.length() + plaintext.length())
        .build();

    private final VaultOperations vault;

    /** The template KV reads go through: one on a blocking HTTP client in the broker (see {@link StoreConfiguration}). */
    private final VaultOperations reads;

    private final String kvMount;

    private final String prefix;

    private final String transitMount;

    private final String transitKey;

    private final String legacyTransitKey;

    private final Clock clock = Clock.systemUTC();

    private final DataKeys dataKeys;

    /**
     * A store with the default {@link StoreProperties.DataKeyLimits}.
     *
     * @see #VaultSecretStore(VaultOperations, String, String, String, String, StoreProperties.DataKeyLimits)
     */
    public VaultSecretStore(VaultOperations vault, String kvMount, String prefix, String transitMount,
            String transitKey) {
        this(vault, kvMount, prefix, transitMount, transitKey, StoreProperties.DataKeyLimits.DEFAULTS);
    }

    /**
     * @param vault an authenticated spring-vault template
     * @param kvMount the KV v2 mount, such as {@code secret}
     * @param prefix the folder inside the mount, such as {@code postern/}
     * @param transitMount the Transit mount, such as {@code transit}
     * @param transitKey the Transit key's base name, such as {@code postern}: documents are
     *        encrypted and MAC'd under data keys that {@code <transitKey>-v2} (derived) wraps;
     *        {@code <transitKey>} only decrypts documents written before the MAC format
     * @param dataKeyLimits when a data key is replaced
     */
    public VaultSecretStore(VaultOperations vault, String kvMount, String prefix, String transitMount,
            String transitKey, StoreProperties.DataKeyLimits dataKeyLimits) {
        this(vault, vault, kvMount, prefix, transitMount, transitKey, dataKeyLimits);
    }

    /**
     * A store whose KV reads go through {@code reads}, the same Vault and session as {@code vault}
     * on another HTTP client.
     *
     * @see #VaultSecretStore(VaultOperations, String, String, String, String, StoreProperties.DataKeyLimits)
     */
    public VaultSecretStore(VaultOperations vault, VaultOperations reads, String kvMount, String prefix,
            String transitMount, String transitKey, StoreProperties.DataKeyLimits dataKeyLimits) {
        this.vault = vault;
        this.reads = reads;
        this.kvMount = trimSlashes(kvMount);
        String folder = trimSlashes(prefix);
        this.prefix = folder.isEmpty() ? "" : folder + "/";
        this.transitMount = trimSlashes(transitMount);
        this.transitKey = transitKey + "-v2";
        this.legacyTransitKey = transitKey;
        this.dataKeys = new DataKeys(this::generateDataKey, this::unwrapDataKey, dataKeyLimits, PLAINTEXT_CACHE_TTL,
                clock);
    }

    private static String trimSlashes(String value) {
        return value.replaceAll("^/+|/+$", "");
    }

    /**
     * Checks that Vault answers, is unsealed and that the derived Transit key exists, creating it
     * when it is missing and the policy allows, then migrates documents still in the legacy format.
     *
     * @throws StoreUnavailableException with what to do when something is missing
     */
    public void prepare() {
        checkHealth();
        String keyPath = transitMount + "/keys/" + transitKey;
        Map<String, Object> keyInfo = readKey(keyPath);
        if (keyInfo == null) {
            createKey(keyPath);
            // A standby that serves reads (OpenBao's default) may not have the new key yet.
            for (int attempt = 0; keyInfo == null && attempt < 50; attempt++) {
                keyInfo = readKey(keyPath);
                if (keyInfo == null) {
                    sleepBriefly();
                }
            }
        }
        if (keyInfo == null || !Boolean.TRUE.equals(keyInfo.get("derived"))) {
            throw new StoreUnavailableException("the Transit key '" + keyPath + "' is not a derived key: Postern binds "
                    + "each ciphertext to its document with a context; a key's 'derived' cannot be changed, so "
                    + "delete or rename it and create it with `bao write " + keyPath + " derived=true`");
        }
        upgradedAt = createdAt(keyInfo);
        // The first data key now, so the first write does not wait for it and a missing right stops the start.
        dataKeys.forWrite(0);
        migrateLegacyDocuments();
    }

    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while waiting for the new Transit key", ex);
        }
    }

    private Map<String, Object> readKey(String keyPath) {
        return callOrNull("read the Transit key '" + keyPath + "'", HttpStatus.NOT_FOUND,
                rest -> object(rest.exchange(keyPath, HttpMethod.GET, null, JSON_OBJECT).getBody().get("data")));
    }

    private void createKey(String keyPath) {
        Integer created = call("create the Transit key '" + keyPath + "'", rest -> {
            try {
                rest.exchange(keyPath, HttpMethod.POST,
                        new HttpEntity<>(Map.of("type", "aes256-gcm96", "derived", true)), JSON_OBJECT);
                return 200;
            }
            catch (HttpStatusCodeException ex) {
                return ex.getStatusCode().value();
            }
        });
        if (created == HttpStatus.NOT_FOUND.value()) {
            throw new StoreUnavailableException("Vault has no Transit secrets engine at '" + transitMount
                    + "/': enable it with `bao secrets enable -path=" + transitMount + " transit`");
        }
        if (created != 200) {
            throw new StoreUnavailableException("the Transit key '" + keyPath
                    + "' is missing and Postern may not create it: create it with `bao write " + keyPath
                    + " derived=true` or grant 'create' on it in Postern's policy");
        }
        log.info("Created the derived Transit key '{}' at mount '{}'", transitKey, transitMount);
    }

    /** The creation time of the key's first version, as Transit reports it (seconds). */
    private static Instant createdAt(Map<String, Object> keyInfo) {
        Object first = object(keyInfo.get("keys")).get("1");
        if (first instanceof Number seconds) {
            return Instant.ofEpochSecond(seconds.longValue());
        }
        Object time = object(first).get("creation_time");
        if (time != null) {
            return Instant.parse(String.valueOf(time));
        }
        throw new StoreUnavailableException("cannot tell when the Transit key '" + keyInfo.get("name") + "' was created");
    }

    /** When the {@code -v2} key was created, or null when it does not exist yet (nothing is upgraded). */
    private Instant upgradedAt() {
        Instant known = upgradedAt;
        if (known == null) {
            Map<String, Object> keyInfo = readKey(transitMount + "/keys/" + transitKey);
            if (keyInfo != null) {
                known = createdAt(keyInfo);
                upgradedAt = known;
            }
        }
        return known;
    }

    /**
     * Rewrites every legacy document in the current format, once: a marker records that it ran.
     * Without the marker (first start after the upgrade, or someone deleted it) it walks the store;
     * legacy documents written after the upgrade are refused there as on any read.
     */
    private void migrateLegacyDocuments() {
        Optional<StoredDocument> marker;
        try {
            marker = read(FORMAT_MARKER);
        }
        catch (DocumentIntegrityException ex) {
            marker = Optional.empty();
        }
        // Written with the format of its day; any format says the legacy documents were migrated.
        if (marker.isPresent() && marker.get().document().data().get("format") != null) {
            return;
        }
        int[] counts = new int[2];
        for (StoreCollection collection : StoreCollection.values()) {
            walk(SecretPath.of(collection), path -> {
                RawDocument raw = fetch(path);
                if (raw == null || raw.stored().get("format") != null) {
                    return;
                }
                try {
                    StoredDocument legacy = open(raw);
                    write(path, legacy.document(), legacy.version());
                    counts[0]++;
                }
                catch (DocumentIntegrityException ex) {
                    counts[1]++;
                }
                catch (VersionConflictException ex) {
                    // Another replica migrated or changed it meanwhile: it is in the current format now.
                }
            });
        }
        try {
            write(FORMAT_MARKER, SecretDocument.of(Map.of("format", FORMAT, "migrated_at", Instant.now().toString())),
                    marker.map(StoredDocument::version).orElse(NEW));
        }
        catch (VersionConflictException ex) {
            // Another replica finished the same migration.
        }
        if (counts[0] > 0 || counts[1] > 0) {
            log.info("Migrated {} legacy documents to the authenticated format; {} refused (see the warnings above)",
                    counts[0], counts[1]);
        }
    }

    private void walk(SecretPath folder, Consumer<SecretPath> visitor) {
        for (String name : listKeys(folder)) {
            if (name.endsWith("/")) {
                String id = name.substring(0, name.length() - 1);
                if (SecretPath.isValidId(id)) {
                    walk(folder.child(id), visitor);
                }
            }
            else if (SecretPath.isValidId(name)) {
                visitor.accept(folder.child(name));
            }
        }
    }

    /** One KV v2 secret as read, before any check. */
    private record RawDocument(SecretPath path, long version, Instant createdAt, Map<String, Object> stored) {
    }

    @Override
    public Optional<StoredDocument> read(SecretPath path) {
        requireDocument(path);
        RawDocument raw = fetch(path);
        return raw == null ? Optional.empty() : Optional.of(open(raw));
    }

    /**
     * Reads the KV documents in parallel, then checks the MACs of all of them in one Transit
     * {@code verify} call and opens their secrets in one {@code decrypt} call, where {@link #read}
     * makes those two calls per document: a process reading documents that another replica wrote
     * (an expiry scan, a page of a list after a restart) pays three Vault round trips per document
     * otherwise. The batch calls only fill the caches that {@link #open} consults; each document
     * is then opened by the same checks as {@link #read}, so a document whose MAC or ciphertext
     * the batch did not confirm is checked alone and refused exactly as there.
     */
    @Override
    public List<Optional<StoredDocument>> readAll(List<SecretPath> paths) {
        paths.forEach(VaultSecretStore::requireDocument);
        // A document in the current format needs no Transit call once its data key is known: it is
        // opened (MAC, decryption, parsing) by the thread that read it, beside the other reads, not
        // after all of them on one thread while Vault waits (the expiry scan's 110,000 reads).
        List<Fetched> fetched = ParallelReads.of(paths, path -> {
            RawDocument raw = fetch(path);
            return raw != null && FORMAT.equals(raw.stored().get("format")) ? new Fetched(raw, open(raw)) : new Fetched(raw, null);
        });
        List<RawDocument> current = fetched.stream()
            .map(Fetched::raw)
            .filter(raw -> raw != null && FORMAT_V2.equals(raw.stored().get("format")) && raw.stored().get("data") instanceof String
                    && raw.stored().get("mac") instanceof String && raw.stored().getOrDefault("secrets", Map.of()) instanceof Map<?, ?>)
            .toList();
        verifyMacs(current);
        decryptAll(current);
        List<Optional<StoredDocument>> documents = new ArrayList<>(fetched.size());
        for (Fetched one : fetched) {
            documents.add(one.raw() == null ? Optional.empty()
                    : Optional.of(one.opened() != null ? one.opened() : open(one.raw())));
        }
        return documents;
    }

    /** A document as read ({@code null}: not there) and, when it could be opened at once, opened. */
    private record Fetched(@Nullable RawDocument raw, @Nullable StoredDocument opened) {
    }

    /** One Transit verify for the MACs not yet known good; the valid ones go into the cache. */
    private void verifyMacs(List<RawDocument> raws) {
        List<String> cacheKeys = new ArrayList<>();
        List<Map<String, String>> batch = new ArrayList<>();
        for (RawDocument raw : raws) {
            String mac = (String) raw.stored().get("mac");
            byte[] macInput = macInputV2(raw.path(), raw.version(), (String) raw.stored().get("data"), strings(raw.stored().get("secrets")));
            String cacheKey = macCacheKey(macInput, mac);
            if (verifiedMacs.getIfPresent(cacheKey) == null) {
                cacheKeys.add(cacheKey);
                batch.add(Map.of("input", Base64.getEncoder().encodeToString(macInput), "hmac", mac));
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        List<Map<String, Object>> results = transit("verify", transitKey, SecretPath.of(raws.get(0).path().collection()), batch);
        // null: some item was not even a MAC of this key; open() then checks each document alone.
        for (int i = 0; results != null && i < results.size(); i++) {
            if (Boolean.TRUE.equals(results.get(i).get("valid"))) {
                verifiedMacs.put(cacheKeys.get(i), Boolean.TRUE);
            }
        }
    }

    /** One Transit decrypt for the secrets of all {@code raws} not yet in the plaintext cache. */
    private void decryptAll(List<RawDocument> raws) {
        List<String> cacheKeys = new ArrayList<>();
        List<Map<String, String>> batch = new ArrayList<>();
        for (RawDocument raw : raws) {
            strings(raw.stored().get("secrets")).forEach((name, ciphertext) -> {
                String context = context(raw.path(), name);
                String cacheKey = context + " " + ciphertext;
                if (plaintexts.getIfPresent(cacheKey) == null) {
                    cacheKeys.add(cacheKey);
                    batch.add(Map.of("ciphertext", ciphertext, "context", context));
                }
            });
        }
        if (batch.isEmpty()) {
            return;
        }
        List<Map<String, Object>> results = transit("decrypt", transitKey, SecretPath.of(raws.get(0).path().collection()), batch);
        // null: a ciphertext did not decrypt for its document and field; open() finds which and refuses it.
        for (int i = 0; results != null && i < results.size(); i++) {
            byte[] plain = Base64.getDecoder().decode(String.valueOf(results.get(i).get("plaintext")));
            plaintexts.put(cacheKeys.get(i), new String(plain, StandardCharsets.UTF_8));
        }
    }

    private RawDocument fetch(SecretPath path) {
        Map<String, Object> body = callOrNull(reads, "read " + path, HttpStatus.NOT_FOUND,
                rest -> rest.exchange(dataPath(path), HttpMethod.GET, null, JSON_OBJECT).getBody());
        if (body == null) {
            return null;
        }
        Map<String, Object> data = object(body.get("data"));
        Map<String, Object> metadata = object(data.get("metadata"));
        long version = ((Number) metadata.get("version")).longValue();
        Object created = metadata.get("created_time");
        return new RawDocument(path, version, created == null ? null : Instant.parse(String.valueOf(created)),
                object(data.get("data")));
    }

    /** Checks a document as read and opens it, or refuses it. */
    private StoredDocument open(RawDocument raw) {
        SecretPath path = raw.path();
        Map<String, Object> stored = raw.stored();
        Object format = stored.get("format");
        if (FORMAT.equals(format)) {
            if (!(stored.get("data") instanceof String data) || !(stored.get("mac") instanceof String mac)
                    || !(stored.get("key") instanceof String wrapped)
                    || !(stored.getOrDefault("secrets", Map.of()) instanceof Map<?, ?>)) {
                throw refuse(raw, "malformed document");
            }
            Map<String, String> sealed = strings(stored.get("secrets"));
            DataKey key = dataKeys.forRead(wrapped);
            if (key == null) {
                throw refuse(raw, "its data key does not unwrap with Postern's Transit key");
            }
            byte[] expected = key.mac(macInput(path, raw.version(), data, wrapped, sealed));
            if (!MessageDigest.isEqual(expected, decodeOrEmpty(mac))) {
                throw refuse(raw, "MAC does not match the document's content and place");
            }
            return new StoredDocument(path, raw.version(),
                    new SecretDocument(json.readValue(data, JSON_MAP), open(raw, key, sealed)));
        }
        if (FORMAT_V2.equals(format)) {
            if (!(stored.get("data") instanceof String data) || !(stored.get("mac") instanceof String mac)
                    || !(stored.getOrDefault("secrets", Map.of()) instanceof Map<?, ?>)) {
                throw refuse(raw, "malformed document");
            }
            Map<String, String> sealed = strings(stored.get("secrets"));
            verifyMac(raw, data, sealed, mac);
            return new StoredDocument(path, raw.version(),
                    new SecretDocument(json.readValue(data, JSON_MAP), decrypt(raw, sealed)));
        }
        if (format != null) {
            throw refuse(raw, "unknown format");
        }
        Instant upgraded = upgradedAt();
        if (upgraded != null && (raw.createdAt() == null || !raw.createdAt().isBefore(upgraded))) {
            throw refuse(raw, "legacy format without a MAC, written after the upgrade");
        }
        Object rawData = stored.get("data");
        Map<String, Object> documentData = rawData instanceof String text ? json.readValue(text, JSON_MAP) : object(rawData);
        return new StoredDocument(path, raw.version(),
                new SecretDocument(documentData, decryptLegacy(path, strings(stored.get("secrets")))));
    }

    private DocumentIntegrityException refuse(RawDocument raw, String check) {
        if (reportedRefusals.asMap().putIfAbsent(raw.path() + "@" + raw.version() + " " + check, Boolean.TRUE) == null) {
            log.warn("Refused the document at {} (version {}): {}. It was changed, moved or planted by someone "
                    + "without Postern's Transit key and is not used; restore it from a backup or delete it",
                    raw.path(), raw.version(), check);
        }
        return new DocumentIntegrityException(raw.path(), check);
    }

    @Override
    public long write(SecretPath path, SecretDocument document, long expectedVersion) {
        requireDocument(path);
        String data = json.writeValueAsString(document.data());
        DataKey key = dataKeys.forWrite(document.secrets().size());
        Map<String, String> sealed = new LinkedHashMap<>();
        document.secrets().forEach((name, value) -> sealed.put(name, Base64.getEncoder()
            .encodeToString(key.seal(value.getBytes(StandardCharsets.UTF_8), associatedData(path, name)))));
        // KV v2 gives a cas write the next version number, so the MAC can name it: a document's
        // older content copied back as a new version does not verify.
        String mac = Base64.getEncoder()
            .encodeToString(key.mac(macInput(path, expectedVersion + 1, data, key.wrapped(), sealed)));
        Map<String, Object> stored = new LinkedHashMap<>();
        stored.put("format", FORMAT);
        // One JSON string rather than a nested object: OpenBao refuses requests with more than a
        // few thousand JSON strings, which a busy audit chunk reaches. It is also exactly the text the MAC covers.
        stored.put("data", data);
        stored.put("key", key.wrapped());
        stored.put("secrets", sealed);
        stored.put("mac", mac);
        Map<String, Object> request = Map.of("options", Map.of("cas", expectedVersion), "data", stored);
        Map<String, Object> body = call("write " + path, rest -> {
            try {
                return rest.exchange(dataPath(path), HttpMethod.POST, new HttpEntity<>(request), JSON_OBJECT).getBody();
            }
            catch (HttpStatusCodeException ex) {
                // KV v2 answers a stale cas with 400 "check-and-set parameter did not match".
                if (ex.getStatusCode().value() == HttpStatus.BAD_REQUEST.value()
                        && ex.getResponseBodyAsString().contains("check-and-set")) {
                    throw new VersionConflictException(path, expectedVersion);
                }
                throw ex;
            }
        });
        return ((Number) object(body.get("data")).get("version")).longValue();
    }

    @Override
    public void delete(SecretPath path) {
        requireDocument(path);
        call("delete " + path, rest -> {
            rest.exchange(kvMount + "/metadata/" + prefix + path.relative(), HttpMethod.DELETE, null, Void.class);
            return null;
        });
    }

    @Override
    public Listing listing(SecretPath folder) {
        List<String> documents = new ArrayList<>();
        List<String> folders = new ArrayList<>();
        for (String name : listKeys(folder)) {
            if (name.endsWith("/")) {
                folders.add(name.substring(0, name.length() - 1));
            }
            else {
                documents.add(name);
            }
        }
        documents.sort(null);
        folders.sort(null);
        return new Listing(documents, folders);
    }

    /** Documents and sub-folders (ending in {@code /}) directly inside {@code folder}. */
    private List<String> listKeys(SecretPath folder) {
        Map<String, Object> body = callOrNull("list " + folder, HttpStatus.NOT_FOUND,
                rest -> rest.exchange(kvMount + "/metadata/" + prefix + folder.relative() + "/?list=true",
                        HttpMethod.GET, null, JSON_OBJECT).getBody());
        if (body == null) {
            return List.of();
        }
        List<String> keys = new ArrayList<>();
        for (Object key : (List<?>) object(body.get("data")).get("keys")) {
            keys.add(String.valueOf(key));
        }
        return keys;
    }

    @Override
    public Map<String, Object> checkHealth() {
        VaultHealth health;
        try {
            health = vault.opsForSys().health();
        }
        catch (RuntimeException ex) {
            throw translateOther(ex, "ask Vault for its health");
        }
        if (!health.isInitialized()) {
            throw new StoreUnavailableException("Vault is not initialized");
        }
        if (health.isSealed()) {
            throw new StoreUnavailableException("Vault is sealed: unseal it, Postern resumes by itself");
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("backend", "vault");
        details.put("version", String.valueOf(health.getVersion()));
        details.put("standby", health.isStandby());
        details.put("kv_mount", kvMount);
        details.put("transit_key", transitMount + "/keys/" + transitKey);
        return details;
    }

    private String dataPath(SecretPath path) {
        return kvMount + "/data/" + prefix + path.relative();
    }

    /** Where the document lives in Vault: what its MAC and its ciphertexts' contexts are bound to. */
    private String location(SecretPath path) {
        return kvMount + "/" + prefix + path.relative();
    }

    private String context(SecretPath path, String field) {
        return Base64.getEncoder().encodeToString((location(path) + "\0" + field).getBytes(StandardCharsets.UTF_8));
    }

    /** The context under which Transit wraps this store's data keys: a key of another store does not unwrap here. */
    private String dataKeyContext() {
        return Base64.getEncoder()
            .encodeToString((DATA_KEY_DOMAIN + "\0" + kvMount + "/" + prefix).getBytes(StandardCharsets.UTF_8));
    }

    /** What a secret field's AES-GCM ciphertext is bound to: its document's location and its name. */
    private byte[] associatedData(SecretPath path, String field) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            field(out, SECRET_DOMAIN);
            field(out, location(path));
            field(out, field);
        }
        catch (IOException ex) {
            throw new IllegalStateException("cannot happen in memory", ex);
        }
        return bytes.toByteArray();
    }

    /**
     * The input of a {@value #FORMAT} document's MAC: length-prefixed fields, so no two different
     * documents share an input. Package-private for tests.
     */
    byte[] macInput(SecretPath path, long version, String data, String wrappedKey, Map<String, String> sealed) {
        return macInput(MAC_DOMAIN, path, version, data, wrappedKey, sealed);
    }

    /** The input of a {@value #FORMAT_V2} document's Transit HMAC. Package-private for tests. */
    byte[] macInputV2(SecretPath path, long version, String data, Map<String, String> sealed) {
        return macInput(MAC_DOMAIN_V2, path, version, data, null, sealed);
    }

    private byte[] macInput(String domain, SecretPath path, long version, String data, String wrappedKey,
            Map<String, String> sealed) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            field(out, domain);
            field(out, location(path));
            out.writeLong(version);
            field(out, data);
            if (wrappedKey != null) {
                field(out, wrappedKey);
            }
            out.writeInt(sealed.size());
            for (Map.Entry<String, String> secret : new TreeMap<>(sealed).entrySet()) {
                field(out, secret.getKey());
                field(out, secret.getValue());
            }
        }
        catch (IOException ex) {
            throw new IllegalStateException("cannot happen in memory", ex);
        }
        return bytes.toByteArray();
    }

    private static void field(DataOutputStream out, String value) throws IOException {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String macCacheKey(byte[] macInput, String mac) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(macInput)) + " " + mac;
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("every JDK has SHA-256", ex);
        }
    }

    private void verifyMac(RawDocument raw, String data, Map<String, String> sealed, String mac) {
        byte[] macInput = macInputV2(raw.path(), raw.version(), data, sealed);
        String cacheKey = macCacheKey(macInput, mac);
        if (verifiedMacs.getIfPresent(cacheKey) != null) {
            return;
        }
        Map<String, Object> request = Map.of("input", Base64.getEncoder().encodeToString(macInput), "hmac", mac);
        Boolean valid = call("verify the MAC of " + raw.path(), rest -> {
            try {
                Map<String, Object> body = rest.exchange(transitMount + "/verify/" + transitKey, HttpMethod.POST,
                        new HttpEntity<>(request), JSON_OBJECT).getBody();
                return Boolean.TRUE.equals(object(body.get("data")).get("valid"));
            }
            catch (HttpStatusCodeException ex) {
                // 400: not a MAC of this key at all (no prefix, unknown key version).
                if (ex.getStatusCode().value() == HttpStatus.BAD_REQUEST.value()) {
                    return false;
                }
                throw ex;
            }
        });
        if (!Boolean.TRUE.equals(valid)) {
            throw refuse(raw, "MAC does not match the document's content and place");
        }
        verifiedMacs.put(cacheKey, Boolean.TRUE);
    }

    /** A new data key from Transit, wrapped under this store's context. */
    private DataKey generateDataKey() {
        Map<String, Object> body = call("generate a data key", rest -> rest.exchange(
                transitMount + "/datakey/plaintext/" + transitKey, HttpMethod.POST,
                new HttpEntity<>(Map.of("context", dataKeyContext(), "bits", 256)), JSON_OBJECT).getBody());
        Map<String, Object> data = object(body.get("data"));
        DataKey key = new DataKey(String.valueOf(data.get("ciphertext")),
                Base64.getDecoder().decode(String.valueOf(data.get("plaintext"))), clock.instant());
        log.info("New data key for documents from Transit key '{}' ({})", transitKey, keyVersion(key.wrapped()));
        return key;
    }

    /** A stored data key unwrapped by Transit, or null when Transit refuses it (not this key's, not this store's). */
    private DataKey unwrapDataKey(String wrapped) {
        Map<String, String> request = Map.of("ciphertext", wrapped, "context", dataKeyContext());
        Map<String, Object> body = callOrNull("unwrap a data key", HttpStatus.BAD_REQUEST,
                rest -> rest.exchange(transitMount + "/decrypt/" + transitKey, HttpMethod.POST, new HttpEntity<>(request),
                        JSON_OBJECT).getBody());
        if (body == null) {
            return null;
        }
        byte[] plaintext;
        try {
            plaintext = Base64.getDecoder().decode(String.valueOf(object(body.get("data")).get("plaintext")));
        }
        catch (IllegalArgumentException ex) {
            return null;
        }
        // Not a data key (someone wrapped other bytes with Postern's rights): refused like a forged one.
        return plaintext.length == 32 ? new DataKey(wrapped, plaintext, clock.instant()) : null;
    }

    /** "vault:v1" of a wrapped key: which Transit key version wrapped it, not secret. */
    private static String keyVersion(String wrapped) {
        int end = wrapped.indexOf(':', wrapped.indexOf(':') + 1);
        return end < 0 ? "unknown version" : wrapped.substring(0, end);
    }

    private Map<String, String> open(RawDocument raw, DataKey key, Map<String, String> sealed) {
        Map<String, String> secrets = new LinkedHashMap<>();
        sealed.forEach((name, ciphertext) -> {
            byte[] plaintext = key.open(decodeOrEmpty(ciphertext), associatedData(raw.path(), name));
            if (plaintext == null) {
                throw refuse(raw, "a secret field does not decrypt for this document and field");
            }
            secrets.put(name, new String(plaintext, StandardCharsets.UTF_8));
        });
        return secrets;
    }

    private static byte[] decodeOrEmpty(String base64) {
        try {
            return Base64.getDecoder().decode(base64);
        }
        catch (IllegalArgumentException ex) {
            return new byte[0];
        }
    }

    private Map<String, String> decrypt(RawDocument raw, Map<String, String> sealed) {
        SecretPath path = raw.path();
        Map<String, String> secrets = decrypt(path, transitKey, sealed, name -> context(path, name));
        if (secrets == null) {
            throw refuse(raw, "a secret field does not decrypt for this document and field");
        }
        return secrets;
    }

    private Map<String, String> decryptLegacy(SecretPath path, Map<String, String> sealed) {
        Map<String, String> secrets = decrypt(path, legacyTransitKey, sealed, null);
        if (secrets == null) {
            throw new SecretStoreException("Vault Transit could not decrypt a secret of " + path);
        }
        return secrets;
    }

    /** Plaintexts by field, or null when Transit refused a ciphertext. */
    private Map<String, String> decrypt(SecretPath path, String key, Map<String, String> sealed,
            Function<String, String> contexts) {
        if (sealed.isEmpty()) {
            return Map.of();
        }
        Map<String, String> secrets = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        List<Map<String, String>> batch = new ArrayList<>();
        sealed.forEach((name, ciphertext) -> {
            String cacheKey = (contexts == null ? key : contexts.apply(name)) + " " + ciphertext;
            String known = plaintexts.getIfPresent(cacheKey);
            secrets.put(name, known);
            if (known == null) {
                names.add(name);
                batch.add(contexts == null ? Map.of("ciphertext", ciphertext)
                        : Map.of("ciphertext", ciphertext, "context", contexts.apply(name)));
            }
        });
        if (!batch.isEmpty()) {
            List<Map<String, Object>> results = transit("decrypt", key, path, batch);
            if (results == null) {
                return null;
            }
            for (int i = 0; i < names.size(); i++) {
                byte[] plain = Base64.getDecoder().decode(String.valueOf(results.get(i).get("plaintext")));
                String plaintext = new String(plain, StandardCharsets.UTF_8);
                String name = names.get(i);
                secrets.put(name, plaintext);
                plaintexts.put((contexts == null ? key : contexts.apply(name)) + " " + sealed.get(name), plaintext);
            }
        }
        return secrets;
    }

    /** The batch results, or null when Transit refused an item (400, or an item with an error). */
    private List<Map<String, Object>> transit(String operation, String key, SecretPath path,
            List<Map<String, String>> batch) {
        // A batch with a failed item answers 400: a ciphertext that is not this key's, or not for this context.
        Map<String, Object> body = callOrNull(operation + " secrets of " + path, HttpStatus.BAD_REQUEST,
                rest -> rest.exchange(transitMount + "/" + operation + "/" + key, HttpMethod.POST,
                        new HttpEntity<>(Map.of("batch_input", batch)), JSON_OBJECT).getBody());
        if (body == null) {
            return null;
        }
        List<Map<String, Object>> results = new ArrayList<>();
        for (Object result : (List<?>) object(body.get("data")).get("batch_results")) {
            Map<String, Object> item = object(result);
            if (item.get("error") != null && !String.valueOf(item.get("error")).isEmpty()) {
                return null;
            }
            results.add(item);
        }
        return results;
    }

    private <T> T call(String what, RestOperationsCallback<T> callback) {
        return call(vault, what, callback);
    }

    private <T> T call(VaultOperations via, String what, RestOperationsCallback<T> callback) {
        try {
            return via.doWithSession(rest -> {
                try {
                    return callback.doWithRestOperations(rest);
                }
                catch (HttpStatusCodeException ex) {
                    // Carried past doWithSession, which would turn it into a VaultException without its status.
                    throw new VaultStatusException(ex);
                }
            });
        }
        catch (VaultStatusException ex) {
            throw translate(ex.failure(), what);
        }
        catch (SecretStoreException ex) {
            throw ex;
        }
        catch (RuntimeException ex) {
            throw translateOther(ex, what);
        }
    }

    /**
     * {@link #call}, or null when Vault answers {@code absent}: a document or key that is not
     * there (404), a ciphertext it refuses (400).
     */
    private <T> @Nullable T callOrNull(String what, HttpStatus absent, RestOperationsCallback<T> callback) {
        return callOrNull(vault, what, absent, callback);
    }

    private <T> @Nullable T callOrNull(VaultOperations via, String what, HttpStatus absent, RestOperationsCallback<T> callback) {
        return call(via, what, rest -> {
            try {
                return callback.doWithRestOperations(rest);
            }
            catch (HttpStatusCodeException ex) {
                if (ex.getStatusCode().value() == absent.value()) {
                    return null;
                }
                throw ex;
            }
        });
    }

    /** Carries Vault's HTTP status out of a session callback. */
    private static final class VaultStatusException extends RuntimeException {

        VaultStatusException(HttpStatusCodeException failure) {
            super(failure.getStatusCode().toString(), failure);
        }

        HttpStatusCodeException failure() {
            return (HttpStatusCodeException) getCause();
        }
    }

    private SecretStoreException translate(HttpStatusCodeException ex, String what) {
        int status = ex.getStatusCode().value();
        return switch (status) {
            case 503 -> new StoreUnavailableException("Vault is sealed or has no active node; could not " + what, ex);
            case 403 -> new StoreUnavailableException(
                    "Vault denied Postern's token; could not " + what + ": check Postern's policy and token", ex);
            // Raft refuses an entry over max_entry_size (1 MiB) with a 500 that no retry gets past.
            case 500 -> ex.getResponseBodyAsString().contains("value being too large")
                    ? new StoreRefusedException("Vault answered 500 " + vaultErrors(ex) + "; could not " + what, ex)
                    : new StoreUnavailableException("Vault answered 500; could not " + what, ex);
            case 429, 502, 504 -> new StoreUnavailableException(
                    "Vault answered " + status + "; could not " + what, ex);
            // Vault's own words name the path or the rule broken, never a value: keep them for the operator.
            default -> status >= 400 && status < 500
                    ? new StoreRefusedException("Vault answered " + status + " " + vaultErrors(ex) + "; could not " + what, ex)
                    : new SecretStoreException("Vault answered " + status + " " + vaultErrors(ex) + "; could not " + what, ex);
        };
    }

    private static String vaultErrors(HttpStatusCodeException ex) {
        String body = ex.getResponseBodyAsString();
        int start = body.indexOf("\"errors\"");
        String errors = start < 0 ? "" : body.substring(start).replaceAll("[\\r\\n]+", " ");
        return errors.length() > 300 ? errors.substring(0, 300) + "…" : errors;
    }

    private SecretStoreException translateOther(RuntimeException ex, String what) {
        if (ex instanceof HttpStatusCodeException status) {
            return translate(status, what);
        }
        if (ex instanceof ResourceAccessException || causedByIo(ex)) {
            // The second: an answer whose body did not arrive within the read timeout. Spring's JDK client
            // closes the body then, and reading on fails with "closed" wrapped in a RestClientException.
            return new StoreUnavailableException("Vault is unreachable or too slow; could not " + what, ex);
        }
        if (ex instanceof VaultException) {
            return new StoreUnavailableException("Vault refused Postern's login or request; could not " + what, ex);
        }
        if (ex instanceof SecretStoreException store) {
            return store;
        }
        return new SecretStoreException("unexpected failure (" + ex.getClass().getSimpleName() + "); could not " + what, ex);
    }

    private static boolean causedByIo(Throwable ex) {
        for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
            if (cause instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    private static void requireDocument(SecretPath path) {
        if (!path.isDocument()) {
            throw new InvalidSecretPathException("a document path needs an id after the collection");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        return value == null ? Map.of() : (Map<String, Object>) value;
    }

    private static Map<String, String> strings(Object value) {
        Map<String, String> result = new LinkedHashMap<>();
        object(value).forEach((k, v) -> result.put(k, String.valueOf(v)));
        return result;
    }
}
