package dev.postern.broker.store;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

/**
 * One page of a collection, read in key order: the keys after the last key of the previous page,
 * from this replica's {@link KeyDirectory} (no LIST on the request path), then their documents,
 * read in batches of the page size until the page is full. Without a filter a page costs
 * {@code limit} reads; a filter on the documents' content reads on until enough match (at worst the
 * rest of the collection), unless the caller passes only the keys that can match
 * ({@link #read(SecretStore, SecretPath, Iterator, int, Function, Predicate)}).
 *
 * @param items the documents of this page, in key order
 * @param lastKey the key of the last document looked at when the page is full and more keys
 *        follow, the position to continue after; {@code null} at the end
 * @param <T> what each document maps to
 */
public record StorePage<T>(List<T> items, @Nullable String lastKey) {

    /**
     * Reads the page after key {@code after} ({@code null}: the first) of {@code folder}: the first
     * key greater than the cursor, even if that document is gone since.
     *
     * @param map turns a document into an item; empty skips it
     * @param filter which items count
     */
    public static <T> StorePage<T> read(KeyDirectory store, SecretPath folder, @Nullable String after, int limit,
            Function<StoredDocument, Optional<T>> map, Predicate<T> filter) {
        return read(store, folder, store.keysAfter(folder, after), limit, map, filter);
    }

    /**
     * Reads a page of the documents of {@code folder} named by {@code keys} (in key order): batches
     * of {@code limit} documents until {@code limit} items pass {@code filter}. A key whose document
     * is gone (deleted by another replica since the keys were known) is skipped.
     */
    public static <T> StorePage<T> read(SecretStore store, SecretPath folder, Iterator<String> keys, int limit,
            Function<StoredDocument, Optional<T>> map, Predicate<T> filter) {
        List<T> items = new ArrayList<>();
        while (keys.hasNext()) {
            List<String> batchKeys = new ArrayList<>(limit);
            while (batchKeys.size() < limit && keys.hasNext()) {
                batchKeys.add(keys.next());
            }
            List<Optional<StoredDocument>> batch = store.readAll(paths(folder, batchKeys));
            for (int i = 0; i < batch.size(); i++) {
                Optional<T> item = batch.get(i).flatMap(map);
                if (item.isPresent() && filter.test(item.get())) {
                    items.add(item.get());
                    if (items.size() == limit) {
                        boolean more = i + 1 < batch.size() || keys.hasNext();
                        return new StorePage<>(items, more ? batchKeys.get(i) : null);
                    }
                }
            }
        }
        return new StorePage<>(items, null);
    }

    /**
     * How many documents {@link #readAll} hands the store at a time: {@link ParallelReads} keeps
     * its window of reads full across a chunk, and a chunk's raw documents are all that is held
     * before they are mapped.
     */
    static final int CHUNK = 1_000;

    private static final ThreadFactory READ_AHEAD = Thread.ofVirtual().name("store-read-ahead").factory();

    /**
     * Every document of {@code folder} in key order: one LIST and a read per document, a chunk of
     * {@value #CHUNK} at a time ({@link SecretStore#readAll}). For background work only (scans,
     * checks), never a request.
     */
    public static <T> List<T> readAll(SecretStore store, SecretPath folder, Function<StoredDocument, Optional<T>> map) {
        List<String> keys = store.list(folder);
        List<T> items = new ArrayList<>(keys.size());
        // The next chunk is read while this one is mapped, so the store is not left waiting.
        CompletableFuture<List<Optional<StoredDocument>>> next = chunk(store, folder, keys, 0);
        for (int start = 0; start < keys.size(); start += CHUNK) {
            List<Optional<StoredDocument>> documents = joined(next);
            next = chunk(store, folder, keys, start + CHUNK);
            for (Optional<StoredDocument> document : documents) {
                document.flatMap(map).ifPresent(items::add);
            }
        }
        return items;
    }

    /** The documents of {@code keys} from {@code start}, a chunk's worth, read on a virtual thread; none past the end. */
    private static CompletableFuture<List<Optional<StoredDocument>>> chunk(SecretStore store, SecretPath folder,
            List<String> keys, int start) {
        if (start >= keys.size()) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<SecretPath> paths = paths(folder, keys.subList(start, Math.min(keys.size(), start + CHUNK)));
        return CompletableFuture.supplyAsync(() -> store.readAll(paths), task -> READ_AHEAD.newThread(task).start());
    }

    private static <V> V joined(CompletableFuture<V> future) {
        try {
            return future.join();
        }
        catch (CompletionException ex) {
            throw ex.getCause() instanceof RuntimeException runtime ? runtime : ex;
        }
    }

    private static List<SecretPath> paths(SecretPath folder, List<String> keys) {
        return keys.stream().map(folder::child).toList();
    }
}
