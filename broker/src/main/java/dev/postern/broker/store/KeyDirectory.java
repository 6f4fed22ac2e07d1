package dev.postern.broker.store;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;

/**
 * The store every feature uses (the counted backend, {@link CountingSecretStore}) with, per listed
 * folder, the sorted set of its keys in memory, so a page of a list is a position lookup in that
 * set and one batch read, not a LIST of the whole folder (OpenBao's LIST of 30,000 keys took
 * 1.6–2.5 s, docs/performance.md).
 * <ul>
 * <li>The folders of the paged lists ({@link #PAGED}) are loaded in the background at start-up (one
 * LIST each); any other folder on its first {@link #keysAfter}. A page asked for before its folder
 * is loaded waits for that one LIST.
 * <li>This replica's own writes and deletes through this store change the set at once.
 * <li>Every {@code postern.store.key-refresh} (30 s) each folder is listed again in the background,
 * so documents created or deleted by other replicas show within that time. Changes this replica
 * makes while such a LIST is under way are applied over its answer, so none is lost.
 * </ul>
 * The set may name a document another replica deleted since the last refresh: a page reads every
 * document it shows, and a document that is gone is skipped ({@link StorePage}), so a list never
 * shows a deleted one.
 */
public final class KeyDirectory implements SecretStore {

    private static final Logger log = LoggerFactory.getLogger(KeyDirectory.class);

    /** The folders whose first page must be fast from the start: the paged lists' collections. */
    static final List<SecretPath> PAGED = List.of(SecretPath.of(StoreCollection.ACCOUNTS),
            SecretPath.of(StoreCollection.APPS), SecretPath.of(StoreCollection.CLIENTS));

    private final SecretStore backend;

    private final Map<SecretPath, Folder> folders = new ConcurrentHashMap<>();

    public KeyDirectory(SecretStore backend) {
        this.backend = backend;
    }

    /** One folder's keys; every change happens under the folder's lock, the LIST itself outside it. */
    private static final class Folder {

        /** Empty until the first LIST answered ({@link #loaded}). */
        private volatile ConcurrentSkipListSet<String> keys = new ConcurrentSkipListSet<>();

        private volatile boolean loaded;

        /** Changes made while a LIST is under way (key → written, or deleted), applied over its answer. */
        private @Nullable Map<String, Boolean> duringList;

        /** One LIST of the folder at a time; a page waiting for the first load waits on it too. */
        private final ReentrantLock listing = new ReentrantLock();
    }

    /**
     * The keys of {@code folder} greater than {@code after} ({@code null}: all), in order, as this
     * replica knows them; loads the folder first (one LIST) if it was never loaded. The iterator
     * is weakly consistent: keys written while it is used may or may not show.
     */
    public Iterator<String> keysAfter(SecretPath folder, @Nullable String after) {
        Folder known = loaded(folder);
        ConcurrentSkipListSet<String> keys = known.keys;
        return (after == null ? keys : keys.tailSet(after, false)).iterator();
    }

    /** How many keys {@code folder} holds as this replica knows it (loading it if never loaded). */
    public int size(SecretPath folder) {
        return loaded(folder).keys.size();
    }

    private Folder loaded(SecretPath folder) {
        Folder known = folders.computeIfAbsent(folder, path -> new Folder());
        if (!known.loaded) {
            // A page asked for before the start-up load finished: waits for that LIST, or makes it.
            known.listing.lock();
            try {
                if (!known.loaded) {
                    relist(folder, known);
                }
            }
            finally {
                known.listing.unlock();
            }
        }
        return known;
    }

    /**
     * Lists every folder again: the paged ones (loading them at start-up) and those loaded since.
     * Runs on the scheduler, never on a request.
     */
    @Scheduled(fixedDelayString = "${postern.store.key-refresh:30s}")
    public void refresh() {
        List<SecretPath> paths = new ArrayList<>(PAGED);
        folders.keySet().stream().filter(path -> !PAGED.contains(path)).forEach(paths::add);
        for (SecretPath path : paths) {
            try {
                relist(path, folders.computeIfAbsent(path, any -> new Folder()));
            }
            catch (RuntimeException ex) {
                // Pages keep the keys known so far, and this replica's own writes still show.
                log.warn("Listing {} for the key directory failed, the next refresh retries: {}", path, ex.toString());
            }
        }
    }

    private void relist(SecretPath path, Folder folder) {
        folder.listing.lock();
        try {
            synchronized (folder) {
                folder.duringList = new HashMap<>();
            }
            List<String> listed;
            try {
                listed = backend.list(path);
            }
            catch (RuntimeException ex) {
                synchronized (folder) {
                    folder.duringList = null;
                }
                throw ex;
            }
            replace(folder, new ConcurrentSkipListSet<>(listed));
        }
        finally {
            folder.listing.unlock();
        }
    }

    private static void replace(Folder folder, ConcurrentSkipListSet<String> keys) {
        synchronized (folder) {
            Map<String, Boolean> changes = folder.duringList;
            folder.duringList = null;
            if (changes != null) {
                changes.forEach((key, written) -> {
                    if (written) {
                        keys.add(key);
                    }
                    else {
                        keys.remove(key);
                    }
                });
            }
            folder.keys = keys;
            folder.loaded = true;
        }
    }

    private void changed(SecretPath path, boolean written) {
        if (!path.isDocument()) {
            return;
        }
        List<String> ids = path.ids();
        Folder folder = folders.get(new SecretPath(path.collection(), ids.subList(0, ids.size() - 1)));
        if (folder == null) {
            return; // nobody pages this folder: its first page lists it
        }
        String key = ids.get(ids.size() - 1);
        synchronized (folder) {
            if (written) {
                folder.keys.add(key);
            }
            else {
                folder.keys.remove(key);
            }
            if (folder.duringList != null) {
                folder.duringList.put(key, written);
            }
        }
    }

    @Override
    public Optional<StoredDocument> read(SecretPath path) {
        return backend.read(path);
    }

    @Override
    public List<Optional<StoredDocument>> readAll(List<SecretPath> paths) {
        return backend.readAll(paths);
    }

    @Override
    public long write(SecretPath path, SecretDocument document, long expectedVersion) {
        long version = backend.write(path, document, expectedVersion);
        changed(path, true);
        return version;
    }

    @Override
    public void delete(SecretPath path) {
        backend.delete(path);
        changed(path, false);
    }

    /** A LIST of the store, as before: background work (scans) wants the store's own answer. */
    @Override
    public Listing listing(SecretPath folder) {
        return backend.listing(folder);
    }

    @Override
    public Map<String, Object> checkHealth() {
        return backend.checkHealth();
    }

    /** For tests: the folders loaded so far. */
    Set<SecretPath> loadedFolders() {
        List<SecretPath> loaded = new ArrayList<>();
        folders.forEach((path, folder) -> {
            if (folder.loaded) {
                loaded.add(path);
            }
        });
        return Set.copyOf(loaded);
    }
}
