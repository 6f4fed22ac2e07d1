package dev.postern.broker.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

/**
 * One page of a collection, read in key order: one LIST of the folder, then the documents after
 * the last key of the previous page, read in parallel batches of the page size until the page is
 * full. Without a filter a page costs one LIST and {@code limit} reads; a filter on the documents'
 * content reads on until enough match (at worst the rest of the collection).
 *
 * @param items the documents of this page, in key order
 * @param lastKey the key of the last document looked at when the page is full and more keys
 *        follow, the position to continue after; {@code null} at the end
 * @param <T> what each document maps to
 */
public record StorePage<T>(List<T> items, @Nullable String lastKey) {

    /**
     * Reads the page after key {@code after} ({@code null}: the first) of {@code folder}.
     *
     * @param map turns a document into an item; empty skips it
     * @param filter which items count
     */
    public static <T> StorePage<T> read(SecretStore store, SecretPath folder, @Nullable String after, int limit,
            Function<StoredDocument, Optional<T>> map, Predicate<T> filter) {
        List<String> keys = store.list(folder);
        int start = 0;
        if (after != null) {
            // Keys are sorted: the first key greater than the cursor, even if that document is gone since.
            int found = java.util.Collections.binarySearch(keys, after);
            start = found >= 0 ? found + 1 : -found - 1;
        }
        List<T> items = new ArrayList<>();
        int next = start;
        while (next < keys.size()) {
            int end = Math.min(keys.size(), next + limit);
            List<Optional<StoredDocument>> batch = store.readAll(paths(folder, keys.subList(next, end)));
            for (int i = 0; i < batch.size(); i++) {
                Optional<T> item = batch.get(i).flatMap(map);
                if (item.isPresent() && filter.test(item.get())) {
                    items.add(item.get());
                    if (items.size() == limit) {
                        int last = next + i;
                        return new StorePage<>(items, last + 1 < keys.size() ? keys.get(last) : null);
                    }
                }
            }
            next = end;
        }
        return new StorePage<>(items, null);
    }

    /** How many documents {@link #readAll} reads at once. */
    static final int PARALLEL_READS = 32;

    /**
     * Every document of {@code folder} in key order: one LIST and a read per document, in batches
     * of {@value #PARALLEL_READS} ({@link SecretStore#readAll}). For background work only (scans,
     * checks), never a request.
     */
    public static <T> List<T> readAll(SecretStore store, SecretPath folder, Function<StoredDocument, Optional<T>> map) {
        List<String> keys = store.list(folder);
        List<T> items = new ArrayList<>(keys.size());
        for (int next = 0; next < keys.size(); next += PARALLEL_READS) {
            for (Optional<StoredDocument> document : store
                .readAll(paths(folder, keys.subList(next, Math.min(keys.size(), next + PARALLEL_READS))))) {
                document.flatMap(map).ifPresent(items::add);
            }
        }
        return items;
    }

    private static List<SecretPath> paths(SecretPath folder, List<String> keys) {
        return keys.stream().map(folder::child).toList();
    }
}
