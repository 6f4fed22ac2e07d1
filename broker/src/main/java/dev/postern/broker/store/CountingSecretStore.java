package dev.postern.broker.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The store every feature uses: the configured backend, with each call counted in
 * {@code postern.store.requests} by operation ({@code get}, {@code list}, {@code write},
 * {@code delete}) and collection, so a path that starts reading whole collections shows in the
 * metrics and fails the scale test (ScaleIntegrationTests) rather than a production broker.
 */
public final class CountingSecretStore implements SecretStore {

    /** The counter's name. */
    public static final String METRIC = "postern.store.requests";

    private final SecretStore backend;

    private final MeterRegistry registry;

    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public CountingSecretStore(SecretStore backend, MeterRegistry registry) {
        this.backend = backend;
        this.registry = registry;
    }

    @Override
    public Optional<StoredDocument> read(SecretPath path) {
        count("get", path);
        return backend.read(path);
    }

    /** Counts one {@code get} per document, as if each were read alone: the metric stays comparable. */
    @Override
    public List<Optional<StoredDocument>> readAll(List<SecretPath> paths) {
        paths.forEach(path -> count("get", path));
        return backend.readAll(paths);
    }

    @Override
    public long write(SecretPath path, SecretDocument document, long expectedVersion) {
        count("write", path);
        return backend.write(path, document, expectedVersion);
    }

    @Override
    public void delete(SecretPath path) {
        count("delete", path);
        backend.delete(path);
    }

    @Override
    public Listing listing(SecretPath folder) {
        count("list", folder);
        return backend.listing(folder);
    }

    @Override
    public Map<String, Object> checkHealth() {
        return backend.checkHealth();
    }

    private void count(String operation, SecretPath path) {
        // Tags from the fixed vocabulary only: never an id, so the series stay few.
        String collection = path.collection().segment();
        counters.computeIfAbsent(operation + " " + collection, key -> Counter.builder(METRIC)
            .description("Store requests by operation (get, list, write, delete) and collection")
            .tag("operation", operation)
            .tag("collection", collection)
            .register(registry)).increment();
    }
}
