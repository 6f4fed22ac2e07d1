package dev.postern.broker.store;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A validated location in the store: a collection from the fixed vocabulary followed by
 * broker-generated ids. Anything that is not a plain lower-case id is refused here, before it
 * can reach a backend, so {@code ../}, encoded slashes, NUL or odd Unicode never become part of
 * a Vault path or a file key.
 *
 * @param collection the top-level folder
 * @param ids the ids below it; empty for the collection itself (a folder to list)
 */
public record SecretPath(StoreCollection collection, List<String> ids) {

    /** Ids are lower-case letters, digits, {@code _} and {@code -}, 1 to 64 characters. */
    public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    public SecretPath {
        if (collection == null) {
            throw new InvalidSecretPathException("a store path needs a collection");
        }
        ids = List.copyOf(ids);
        for (String id : ids) {
            if (!isValidId(id)) {
                throw new InvalidSecretPathException("not a valid id for a store path");
            }
        }
    }

    /** A path for a document or folder in {@code collection}. */
    public static SecretPath of(StoreCollection collection, String... ids) {
        return new SecretPath(collection, List.of(ids));
    }

    /** Whether {@code candidate} may be used as one segment of a store path. */
    public static boolean isValidId(String candidate) {
        return candidate != null && ID.matcher(candidate).matches();
    }

    /** The path of the document {@code id} inside this folder. */
    public SecretPath child(String id) {
        List<String> childIds = new ArrayList<>(ids);
        childIds.add(id);
        return new SecretPath(collection, childIds);
    }

    /** Whether this path names a document rather than a bare collection. */
    public boolean isDocument() {
        return !ids.isEmpty();
    }

    /** The path relative to the store's root, segments joined by {@code /}. */
    public String relative() {
        return ids.isEmpty() ? collection.segment() : collection.segment() + "/" + String.join("/", ids);
    }

    @Override
    public String toString() {
        return relative();
    }
}
