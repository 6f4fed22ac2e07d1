package dev.postern.broker.store;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/** Store reads of a batch made at once on virtual threads, each read's own exception rethrown as it was. */
final class ParallelReads {

    private ParallelReads() {
    }

    /** {@code read} of every one of {@code paths}, at once, in the order of {@code paths}. */
    static <T> List<T> of(List<SecretPath> paths, Function<SecretPath, T> read) {
        List<T> results = new ArrayList<>(paths.size());
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<T>> reads = new ArrayList<>(paths.size());
            for (SecretPath path : paths) {
                reads.add(readers.submit(() -> read.apply(path)));
            }
            for (Future<T> future : reads) {
                results.add(joined(future));
            }
        }
        return results;
    }

    private static <V> V joined(Future<V> future) {
        try {
            return future.get();
        }
        catch (ExecutionException ex) {
            if (ex.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(ex.getCause());
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailableException("interrupted while reading documents");
        }
    }
}
