package dev.postern.broker.store;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The Vault store's data keys: the one this process encrypts with, replaced after
 * {@link StoreProperties.DataKeyLimits}, and the keys of documents it read,
 * unwrapped once at Transit and kept by their wrapped value (at most {@value #MAX_UNWRAPPED} keys,
 * each for {@code unwrappedTtl}, so Transit rights taken away from Postern stop opening other
 * processes' documents after that time). The current key is this process's own until it is
 * replaced, for reads too.
 */
final class DataKeys {

    static final int MAX_UNWRAPPED = 1_024;

    private final Supplier<DataKey> generate;

    private final long maxEncryptions;

    private final Duration maxAge;

    private final Clock clock;

    private final Cache<String, DataKey> unwrapped;

    private final Function<String, DataKey> unwrap;

    private volatile DataKey current;

    /**
     * @param generate asks Transit for a new data key (one round trip)
     * @param unwrap asks Transit to unwrap a stored key (one round trip); a failure is thrown, not kept
     * @param limits encryptions and age after which the current key is replaced
     * @param unwrappedTtl how long an unwrapped key is kept
     */
    DataKeys(Supplier<DataKey> generate, Function<String, DataKey> unwrap, StoreProperties.DataKeyLimits limits,
            Duration unwrappedTtl, Clock clock) {
        this.generate = generate;
        this.unwrap = unwrap;
        this.maxEncryptions = limits.maxEncryptions();
        this.maxAge = limits.maxAge();
        this.clock = clock;
        this.unwrapped = Caffeine.newBuilder().maximumSize(MAX_UNWRAPPED).expireAfterWrite(unwrappedTtl).build();
    }

    /**
     * The key to encrypt {@code encryptions} fields of one document with (and MAC it), counted
     * against that key; a new one from Transit when the current one is used up or too old.
     */
    DataKey forWrite(int encryptions) {
        DataKey key = current;
        if (usable(key) && key.reserve(encryptions) <= maxEncryptions) {
            return key;
        }
        synchronized (this) {
            key = current;
            if (usable(key) && key.reserve(encryptions) <= maxEncryptions) {
                return key; // another thread replaced it meanwhile
            }
            key = generate.get();
            if (key.reserve(encryptions) > maxEncryptions) {
                throw new SecretStoreException("a document with " + encryptions + " secret fields exceeds "
                        + "postern.store.vault.data-key.max-encryptions (" + maxEncryptions + ")");
            }
            current = key;
            return key;
        }
    }

    private boolean usable(DataKey key) {
        return key != null && clock.instant().isBefore(key.created().plus(maxAge));
    }

    /** The key that {@code wrapped} wraps: from memory, or unwrapped at Transit once. */
    DataKey forRead(String wrapped) {
        DataKey key = current;
        if (key != null && key.wrapped().equals(wrapped)) {
            return key;
        }
        return unwrapped.get(wrapped, unwrap);
    }
}
