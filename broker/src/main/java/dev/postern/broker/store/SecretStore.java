package dev.postern.broker.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Versioned, compare-and-set storage of secret documents. {@link VaultSecretStore} and
 * {@link EmbeddedSecretStore} implement it; nothing else in the broker talks to Vault.
 *
 * <p>Versions start at 1 and grow by one with every write. A write names the version it read
 * ({@link #NEW} when it expects no document) and fails with {@link VersionConflictException}
 * when someone else wrote in between, so two replicas never overwrite each other's rotated
 * refresh token.
 */
public interface SecretStore {

    /** The expected version for a write that creates a document which must not exist yet. */
    long NEW = 0;

    /** The document at {@code path} with its version, or empty when there is none. */
    Optional<StoredDocument> read(SecretPath path);

    /**
     * The documents at {@code paths}, in that order, each as {@link #read} gives it (empty when
     * there is none); a document that {@link #read} refuses fails the whole call the same way. The
     * default reads them on virtual threads, {@code ParallelReads.MAX_IN_FLIGHT} (32) at a time:
     * callers pass a page or a batch, never a whole collection. A backend that can check or open
     * many documents in one round trip overrides it ({@link VaultSecretStore}).
     */
    default List<Optional<StoredDocument>> readAll(List<SecretPath> paths) {
        return ParallelReads.of(paths, this::read);
    }

    /**
     * Writes {@code document} at {@code path} when its current version is
     * {@code expectedVersion}.
     *
     * @return the new version
     * @throws VersionConflictException when the current version is another one
     */
    long write(SecretPath path, SecretDocument document, long expectedVersion);

    /** Deletes the document at {@code path} with all its versions; nothing happens when absent. */
    void delete(SecretPath path);

    /** The ids of the documents directly inside the folder {@code folder}, sorted. */
    default List<String> list(SecretPath folder) {
        return listing(folder).documents();
    }

    /** The documents and the folders directly inside {@code folder}, each sorted: one LIST of the store. */
    Listing listing(SecretPath folder);

    /**
     * What a folder holds: the ids of its documents and of its sub-folders (without the trailing
     * {@code /} a Vault LIST gives them), each sorted.
     */
    record Listing(List<String> documents, List<String> folders) {

        public Listing {
            documents = List.copyOf(documents);
            folders = List.copyOf(folders);
        }
    }

    /**
     * Checks that the backend answers and may be used; details go to the health endpoint.
     *
     * @throws StoreUnavailableException when it does not
     */
    Map<String, Object> checkHealth();
}
