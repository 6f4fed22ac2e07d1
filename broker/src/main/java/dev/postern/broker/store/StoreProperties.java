package dev.postern.broker.store;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Where Postern keeps its documents ({@code postern.store.*}).
 *
 * @param type {@code embedded} (one encrypted local file, the default) or {@code vault}
 * @param embedded settings of the embedded store
 * @param vault settings of the Vault store
 */
@ConfigurationProperties("postern.store")
public record StoreProperties(@DefaultValue("embedded") Type type, @DefaultValue Embedded embedded,
        @DefaultValue Vault vault) {

    /** The store backends. */
    public enum Type {
        EMBEDDED, VAULT
    }

    /**
     * The embedded store.
     *
     * @param file the store file; the default is {@code data/postern-store.bin}
     * @param keyFile the generated master key file (mode 0600), used when {@code masterKey} is
     *        empty; the default is {@code data/master.key}
     * @param masterKey a base64 256-bit key, normally from {@code POSTERN_MASTER_KEY}
     */
    public record Embedded(@DefaultValue("data/postern-store.bin") Path file,
            @DefaultValue("data/master.key") Path keyFile, @Nullable String masterKey) {

        @Override
        public String toString() {
            return "Embedded[file=" + file + ", keyFile=" + keyFile + ", masterKey=" + (masterKey == null ? "unset" : "(redacted)") + "]";
        }
    }

    /**
     * The Vault (or OpenBao) store.
     *
     * @param uri Vault's address; the default is {@code http://127.0.0.1:8200}
     * @param authentication {@code token}, {@code approle} or {@code kubernetes}
     * @param token the token for token authentication, normally from {@code VAULT_TOKEN}
 * @param appRole AppRole settings
 * @param kubernetes Kubernetes auth settings
     * @param kvMount the KV v2 mount; the default is {@code secret}
     * @param prefix the folder inside the KV mount; the default is {@code postern/}
     * @param transitMount the Transit mount; the default is {@code transit}
     * @param transitKey the Transit key's base name: secret fields are encrypted and documents MAC'd
     *        with the derived key {@code <transitKey>-v2}; {@code <transitKey>} only decrypts
     *        documents written before; the default is {@code postern}
     * @param caCertificate a PEM file of the CA that signed Vault's TLS certificate, when it is
     *        not in the JVM's trust store
     * @param connectTimeout how long to wait for a connection; the default is 2 seconds
     * @param readTimeout how long to wait for an answer; the default is 5 seconds
     * @param dataKey when the data key that encrypts and MACs documents is replaced
     */
    public record Vault(@DefaultValue("http://127.0.0.1:8200") URI uri,
            @DefaultValue("token") Authentication authentication, @Nullable String token,
            @DefaultValue AppRole appRole, @DefaultValue Kubernetes kubernetes, @DefaultValue("secret") String kvMount,
            @DefaultValue("postern/") String prefix, @DefaultValue("transit") String transitMount,
            @DefaultValue("postern") String transitKey, @Nullable Path caCertificate,
            @DefaultValue("2s") Duration connectTimeout, @DefaultValue("5s") Duration readTimeout,
            @DefaultValue DataKeyLimits dataKey) {

        @Override
        public String toString() {
            return "Vault[uri=" + uri + ", authentication=" + authentication + ", kvMount=" + kvMount + ", prefix="
                    + prefix + ", transit=" + transitMount + "/" + transitKey + "]";
        }
    }

    /**
     * When a replica replaces its data key (one {@code transit/datakey} call), whichever comes first.
     * Secret fields are encrypted with AES-256-GCM under random 96-bit nonces; NIST SP 800-38D
     * allows 2^32 encryptions per key with random nonces, where the chance of a repeated nonce is
     * about 2^-33. 2^24 keeps it below 2^-49 per key.
     *
     * @param maxEncryptions secret fields encrypted under one key; the default is 16777216 (2^24),
     *        at most 2^32
     * @param maxAge how long one key is used for new writes; the default is 24 hours
     */
    public record DataKeyLimits(@DefaultValue("16777216") long maxEncryptions, @DefaultValue("24h") Duration maxAge) {

        /** The defaults, for stores built outside Spring's binding. */
        public static final DataKeyLimits DEFAULTS = new DataKeyLimits(1L << 24, Duration.ofHours(24));

        public DataKeyLimits {
            if (maxEncryptions < 1 || maxEncryptions > 1L << 32) {
                throw new IllegalArgumentException("postern.store.vault.data-key.max-encryptions must be between 1 and "
                        + "2^32 (AES-GCM's limit for random nonces); the default is 2^24");
            }
            if (!maxAge.isPositive()) {
                throw new IllegalArgumentException("postern.store.vault.data-key.max-age must be positive");
            }
        }
    }

    /** How Postern logs in to Vault. */
    public enum Authentication {
        TOKEN, APPROLE, KUBERNETES
    }

    /**
     * Kubernetes auth: the pod's service account token, exchanged at Vault for a Vault token.
     *
     * @param path the auth mount; the default is {@code kubernetes}
     * @param role the Vault role bound to Postern's service account
     * @param tokenFile the service account token; the default is the one Kubernetes mounts
     */
    public record Kubernetes(@DefaultValue("kubernetes") String path, @Nullable String role,
            @DefaultValue("/var/run/secrets/kubernetes.io/serviceaccount/token") Path tokenFile) {
    }

    /**
     * AppRole login.
     *
     * @param path the auth mount; the default is {@code approle}
     * @param roleId the role id
     * @param secretId the secret id, normally from a mounted Secret
     */
    public record AppRole(@DefaultValue("approle") String path, @Nullable String roleId,
            @Nullable String secretId) {

        @Override
        public String toString() {
            return "AppRole[path=" + path + ", roleId=" + roleId + ", secretId=" + (secretId == null ? "unset" : "(redacted)") + "]";
        }
    }
}
