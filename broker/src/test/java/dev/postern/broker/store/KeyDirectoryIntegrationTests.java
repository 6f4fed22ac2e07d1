package dev.postern.broker.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.postern.broker.testing.ForwardingStore;
import dev.postern.broker.testing.TestVault;
import dev.postern.broker.testing.VaultExtension;

/**
 * The key directory on a real OpenBao: a page takes its keys from memory (no LIST after the load),
 * this replica's writes and deletes show at once, another replica's after the periodic refresh, a
 * change made while the refresh's LIST is under way is not lost, and a document another replica
 * deleted is skipped by a page, never shown.
 */
@ExtendWith(VaultExtension.class)
class KeyDirectoryIntegrationTests {

    private static final SecretPath ACCOUNTS = SecretPath.of(StoreCollection.ACCOUNTS);

    private final TestVault vault;

    private final String prefix = "postern/keys-" + UUID.randomUUID() + "/";

    KeyDirectoryIntegrationTests(TestVault vault) {
        this.vault = vault;
    }

    /** The backend with its LISTs counted, and a LIST that can be held mid-way. */
    private final class Listed extends ForwardingStore {

        final AtomicInteger lists = new AtomicInteger();

        volatile CountDownLatch listStarted;

        volatile CountDownLatch listMayAnswer;

        Listed() {
            super(new VaultSecretStore(VaultStores.template(vault.address(), vault.rootToken()), "secret", prefix,
                    "transit", "postern"));
            ((VaultSecretStore) backend).prepare();
        }

        @Override
        public Listing listing(SecretPath folder) {
            lists.incrementAndGet();
            Listing answer = backend.listing(folder);
            if (listStarted != null) {
                listStarted.countDown();
                try {
                    listMayAnswer.await(10, TimeUnit.SECONDS);
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            return answer;
        }
    }

    private static void create(SecretStore store, String id) {
        store.write(ACCOUNTS.child(id), SecretDocument.of(Map.of("id", id)), SecretStore.NEW);
    }

    private static List<String> keys(KeyDirectory directory, String after) {
        List<String> keys = new ArrayList<>();
        directory.keysAfter(ACCOUNTS, after).forEachRemaining(keys::add);
        return keys;
    }

    private static StorePage<String> page(KeyDirectory directory, String after, int limit) {
        return StorePage.read(directory, ACCOUNTS, after, limit,
                stored -> Optional.of(String.valueOf(stored.document().data().get("id"))), id -> true);
    }

    @Test
    void pagesTakeTheirKeysFromMemoryAndSeeOwnChangesAtOnceAndOthersAfterTheRefresh() {
        Listed store = new Listed();
        for (String id : List.of("acc_b", "acc_d", "acc_f")) {
            create(store.backend(), id);
        }
        KeyDirectory directory = new KeyDirectory(store);
        KeyDirectory otherReplica = new KeyDirectory(new Listed());

        assertThat(keys(directory, null)).containsExactly("acc_b", "acc_d", "acc_f");
        assertThat(store.lists).as("the first use lists the folder once").hasValue(1);
        // The cursor: the first key greater than it, whether it exists or not.
        assertThat(keys(directory, "acc_b")).containsExactly("acc_d", "acc_f");
        assertThat(keys(directory, "acc_c")).containsExactly("acc_d", "acc_f");

        create(directory, "acc_a");
        directory.delete(ACCOUNTS.child("acc_d"));
        assertThat(page(directory, null, 10).items()).as("own changes, at once").containsExactly("acc_a", "acc_b",
                "acc_f");
        StorePage<String> first = page(directory, null, 2);
        assertThat(first.items()).containsExactly("acc_a", "acc_b");
        assertThat(first.lastKey()).isEqualTo("acc_b");
        assertThat(page(directory, first.lastKey(), 2).lastKey()).as("the end").isNull();
        assertThat(store.lists).as("no LIST for any page").hasValue(1);

        create(otherReplica, "acc_c");
        otherReplica.delete(ACCOUNTS.child("acc_f"));
        // Another replica deleted acc_f: the key is still known here, but its document is gone, so a page skips it.
        assertThat(keys(directory, null)).containsExactly("acc_a", "acc_b", "acc_f");
        assertThat(page(directory, null, 10).items()).containsExactly("acc_a", "acc_b");
        StorePage<String> full = page(directory, null, 2);
        assertThat(full.items()).containsExactly("acc_a", "acc_b");

        directory.refresh();
        assertThat(store.lists).as("accounts again, and apps and clients, the other paged folders").hasValue(1 + KeyDirectory.PAGED.size());
        assertThat(keys(directory, null)).as("others' changes after the refresh").containsExactly("acc_a", "acc_b",
                "acc_c");
        assertThat(directory.loadedFolders()).contains(ACCOUNTS, SecretPath.of(StoreCollection.APPS),
                SecretPath.of(StoreCollection.CLIENTS));
    }

    @Test
    void aChangeMadeWhileTheRefreshListsIsNotLost() throws Exception {
        Listed store = new Listed();
        create(store.backend(), "acc_old");
        create(store.backend(), "acc_gone");
        KeyDirectory directory = new KeyDirectory(store);
        assertThat(keys(directory, null)).containsExactly("acc_gone", "acc_old");

        store.listStarted = new CountDownLatch(1);
        store.listMayAnswer = new CountDownLatch(1);
        CompletableFuture<Void> refresh = CompletableFuture.runAsync(directory::refresh);
        assertThat(store.listStarted.await(10, TimeUnit.SECONDS)).isTrue();
        // The LIST has its answer (acc_gone, acc_old) but has not returned: write and delete now.
        create(directory, "acc_new");
        directory.delete(ACCOUNTS.child("acc_gone"));
        store.listMayAnswer.countDown();
        refresh.get(30, TimeUnit.SECONDS);
        store.listStarted = null;

        assertThat(keys(directory, null)).containsExactly("acc_new", "acc_old");
        directory.refresh();
        assertThat(keys(directory, null)).containsExactly("acc_new", "acc_old");
    }

    @Test
    void aPageAskedForDuringTheFirstLoadWaitsForItAndDoesNotListAgain() throws Exception {
        Listed store = new Listed();
        create(store.backend(), "acc_one");
        KeyDirectory directory = new KeyDirectory(store);
        store.listStarted = new CountDownLatch(1);
        store.listMayAnswer = new CountDownLatch(1);
        // The start-up load lists accounts first; its answer is held.
        CompletableFuture<Void> load = CompletableFuture.runAsync(directory::refresh);
        assertThat(store.listStarted.await(10, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<List<String>> pageKeys = CompletableFuture.supplyAsync(() -> keys(directory, null));
        Thread.sleep(200);
        assertThat(pageKeys).as("waits for the load").isNotDone();
        store.listMayAnswer.countDown();
        assertThat(pageKeys.get(30, TimeUnit.SECONDS)).containsExactly("acc_one");
        load.get(30, TimeUnit.SECONDS);
        assertThat(store.lists).as("one LIST per paged folder, none for the page").hasValue(3);
        Iterator<String> none = directory.keysAfter(ACCOUNTS, "acc_one");
        assertThat(none.hasNext()).isFalse();
    }
}
