package dev.postern.broker.testing;

import java.util.Map;
import java.util.Optional;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoredDocument;

/**
 * A store that hands every call to {@code backend}: a test extends it to watch, hold back or lose
 * the calls it is about. {@link #readAll} is the interface's own, one {@link #read} per path, so a
 * test that watches reads sees those of a batch too.
 */
public class ForwardingStore implements SecretStore {

    protected final SecretStore backend;

    public ForwardingStore(SecretStore backend) {
        this.backend = backend;
    }

    /** The store calls go to, for a test's own calls that are not to be watched. */
    public SecretStore backend() {
        return backend;
    }

    @Override
    public Optional<StoredDocument> read(SecretPath path) {
        return backend.read(path);
    }

    @Override
    public long write(SecretPath path, SecretDocument document, long expectedVersion) {
        return backend.write(path, document, expectedVersion);
    }

    @Override
    public void delete(SecretPath path) {
        backend.delete(path);
    }

    @Override
    public Listing listing(SecretPath folder) {
        return backend.listing(folder);
    }

    @Override
    public Map<String, Object> checkHealth() {
        return backend.checkHealth();
    }
}
