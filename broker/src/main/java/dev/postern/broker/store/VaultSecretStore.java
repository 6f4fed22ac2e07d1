package dev.postern.broker.store;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
 * {@code cas} on the version that was read, holding {@code data} (the document's metadata as one
 * JSON string) and {@code secrets}, each value first encrypted with a Transit key, so a reader
 * with KV rights but no Transit rights sees ciphertext only.
 *
 * <p>Plaintexts of ciphertexts this process recently encrypted or decrypted are kept in memory
 * for {@link #PLAINTEXT_CACHE_TTL} ({@link #PLAINTEXT_CACHE_BYTES} at most), keyed by the
 * ciphertext: a token refresh then reads the account and the app without a Transit call each,
 * which halves the store round trips on a miss. The same plaintexts are in this process's memory
 * anyway while they are used (access tokens in the token cache, secrets in provider clients); the
 * price is that Transit rights taken away from Postern stop decrypting after that time, not at
 * once (SECURITY.md).
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

    private final JsonMapper json = JsonMapper.builder().build();

    private final Cache<String, String> plaintexts = Caffeine.newBuilder()
        .expireAfterWrite(PLAINTEXT_CACHE_TTL)
        .maximumWeight(PLAINTEXT_CACHE_BYTES)
        .weigher((String ciphertext, String plaintext) -> ciphertext.length() + plaintext.length())
        .build();

    private final VaultOperations vault;

    private final String kvMount;

    private final String prefix;

    private final String transitMount;

    private final String transitKey;

    /**
     * @param vault an authenticated spring-vault template
     * @param kvMount the KV v2 mount, such as {@code secret}
     * @param prefix the folder inside the mount, such as {@code postern/}
     * @param transitMount the Transit mount, such as {@code transit}
     * @param transitKey the Transit key name, such as {@code postern}
     */
    public VaultSecretStore(VaultOperations vault, String kvMount, String prefix, String transitMount,
            String transitKey) {
        this.vault = vault;
        this.kvMount = trimSlashes(kvMount);
        String folder = trimSlashes(prefix);
        this.prefix = folder.isEmpty() ? "" : folder + "/";
        this.transitMount = trimSlashes(transitMount);
        this.transitKey = transitKey;
    }

    private static String trimSlashes(String value) {
        return value.replaceAll("^/+|/+$", "");
    }

    /**
     * Checks that Vault answers, is unsealed and that the Transit key exists, creating it when it
     * is missing and the policy allows.
     *
     * @throws StoreUnavailableException with what to do when something is missing
     */
    public void prepare() {
        checkHealth();
        String keyPath = transitMount + "/keys/" + transitKey;
        Integer status = call("read the Transit key '" + keyPath + "'", rest -> {
            try {
                rest.exchange(keyPath, HttpMethod.GET, null, JSON_OBJECT);
                return null;
            }
            catch (HttpStatusCodeException ex) {
                if (ex.getStatusCode().value() == HttpStatus.NOT_FOUND.value()) {
                    return ex.getStatusCode().value();
                }
                throw ex;
            }
        });
        if (status == null) {
            return;
        }
        Integer created = call("create the Transit key '" + keyPath + "'", rest -> {
            try {
                rest.exchange(keyPath, HttpMethod.POST, new HttpEntity<>(Map.of("type", "aes256-gcm96")), JSON_OBJECT);
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
                    + "' is missing and Postern may not create it: create it with `bao write -f " + keyPath
                    + "` or grant 'create' on it in Postern's policy");
        }
        log.info("Created the Transit key '{}' at mount '{}'", transitKey, transitMount);
    }

    @Override
    public Optional<StoredDocument> read(SecretPath path) {
        requireDocument(path);
        Map<String, Object> body = call("read " + path, rest -> {
            try {
                return rest.exchange(dataPath(path), HttpMethod.GET, null, JSON_OBJECT).getBody();
            }
            catch (HttpStatusCodeException ex) {
                if (ex.getStatusCode().value() == HttpStatus.NOT_FOUND.value()) {
                    return null;
                }
                throw ex;
            }
        });
        if (body == null) {
            return Optional.empty();
        }
        Map<String, Object> data = object(body.get("data"));
        Map<String, Object> stored = object(data.get("data"));
        long version = ((Number) object(data.get("metadata")).get("version")).longValue();
        Object rawData = stored.get("data");
        Map<String, Object> documentData = rawData instanceof String text ? json.readValue(text, JSON_MAP) : object(rawData);
        Map<String, String> sealedSecrets = strings(stored.get("secrets"));
        return Optional.of(new StoredDocument(path, version,
                new SecretDocument(documentData, decrypt(path, sealedSecrets))));
    }

    @Override
    public long write(SecretPath path, SecretDocument document, long expectedVersion) {
        requireDocument(path);
        Map<String, Object> stored = new LinkedHashMap<>();
        // One JSON string rather than a nested object: OpenBao refuses requests with more than a
        // few thousand JSON strings, which a busy audit chunk reaches.
        stored.put("data", json.writeValueAsString(document.data()));
        stored.put("secrets", encrypt(path, document.secrets()));
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
    public List<String> list(SecretPath folder) {
        Map<String, Object> body = call("list " + folder, rest -> {
            try {
                return rest.exchange(kvMount + "/metadata/" + prefix + folder.relative() + "/?list=true",
                        HttpMethod.GET, null, JSON_OBJECT).getBody();
            }
            catch (HttpStatusCodeException ex) {
                if (ex.getStatusCode().value() == HttpStatus.NOT_FOUND.value()) {
                    return null;
                }
                throw ex;
            }
        });
        if (body == null) {
            return List.of();
        }
        List<String> ids = new ArrayList<>();
        for (Object key : (List<?>) object(body.get("data")).get("keys")) {
            String name = String.valueOf(key);
            if (!name.endsWith("/")) {
                ids.add(name);
            }
        }
        ids.sort(null);
        return ids;
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

    private Map<String, String> encrypt(SecretPath path, Map<String, String> secrets) {
        if (secrets.isEmpty()) {
            return Map.of();
        }
        List<String> names = new ArrayList<>(secrets.keySet());
        List<Map<String, String>> batch = new ArrayList<>();
        for (String name : names) {
            batch.add(Map.of("plaintext",
                    Base64.getEncoder().encodeToString(secrets.get(name).getBytes(StandardCharsets.UTF_8))));
        }
        List<Map<String, Object>> results = transit("encrypt", path, batch);
        Map<String, String> sealed = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String ciphertext = String.valueOf(results.get(i).get("ciphertext"));
            sealed.put(names.get(i), ciphertext);
            plaintexts.put(ciphertext, secrets.get(names.get(i)));
        }
        return sealed;
    }

    private Map<String, String> decrypt(SecretPath path, Map<String, String> sealed) {
        if (sealed.isEmpty()) {
            return Map.of();
        }
        Map<String, String> secrets = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        List<Map<String, String>> batch = new ArrayList<>();
        sealed.forEach((name, ciphertext) -> {
            String known = plaintexts.getIfPresent(ciphertext);
            secrets.put(name, known);
            if (known == null) {
                names.add(name);
                batch.add(Map.of("ciphertext", ciphertext));
            }
        });
        if (!batch.isEmpty()) {
            List<Map<String, Object>> results = transit("decrypt", path, batch);
            for (int i = 0; i < names.size(); i++) {
                byte[] plain = Base64.getDecoder().decode(String.valueOf(results.get(i).get("plaintext")));
                String plaintext = new String(plain, StandardCharsets.UTF_8);
                secrets.put(names.get(i), plaintext);
                plaintexts.put(sealed.get(names.get(i)), plaintext);
            }
        }
        return secrets;
    }

    private List<Map<String, Object>> transit(String operation, SecretPath path, List<Map<String, String>> batch) {
        Map<String, Object> body = call(operation + " secrets of " + path,
                rest -> rest.exchange(transitMount + "/" + operation + "/" + transitKey, HttpMethod.POST,
                        new HttpEntity<>(Map.of("batch_input", batch)), JSON_OBJECT).getBody());
        List<Map<String, Object>> results = new ArrayList<>();
        for (Object result : (List<?>) object(body.get("data")).get("batch_results")) {
            Map<String, Object> item = object(result);
            if (item.get("error") != null && !String.valueOf(item.get("error")).isEmpty()) {
                throw new SecretStoreException("Vault Transit could not " + operation + " a secret of " + path);
            }
            results.add(item);
        }
        return results;
    }

    private <T> T call(String what, RestOperationsCallback<T> callback) {
        try {
            return vault.doWithSession(rest -> {
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
            case 429, 500, 502, 504 -> new StoreUnavailableException(
                    "Vault answered " + status + "; could not " + what, ex);
            // Vault's own words name the path or the rule broken, never a value: keep them for the operator.
            default -> new SecretStoreException("Vault answered " + status + " " + vaultErrors(ex) + "; could not " + what, ex);
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
        if (ex instanceof ResourceAccessException) {
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
