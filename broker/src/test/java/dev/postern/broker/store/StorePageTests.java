package dev.postern.broker.store;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link StorePage#readAll}: every document in key order, the next chunk read while one is mapped. */
class StorePageTests {

    private static final SecretPath FOLDER = SecretPath.of(StoreCollection.ACCOUNTS);

    /** A store of {@code count} documents that records which chunk each batch read starts with. */
    private static final class ChunkedStore implements SecretStore {

        final List<String> keys;

        final List<String> batchesStartingWith = new CopyOnWriteArrayList<>();

        final CountDownLatch secondBatchAsked = new CountDownLatch(1);

        volatile String failAt;

        ChunkedStore(int count) {
            keys = IntStream.range(0, count).mapToObj("acc_%05d"::formatted).toList();
        }

        @Override
        public List<Optional<StoredDocument>> readAll(List<SecretPath> paths) {
            String first = paths.getFirst().ids().getLast();
            batchesStartingWith.add(first);
            if (batchesStartingWith.size() == 2) {
                secondBatchAsked.countDown();
            }
            if (first.equals(failAt)) {
                throw new StoreUnavailableException("Vault is sealed");
            }
            return SecretStore.super.readAll(paths);
        }

        @Override
        public Optional<StoredDocument> read(SecretPath path) {
            return Optional.of(new StoredDocument(path, 1, new SecretDocument(Map.of("id", path.ids().getLast()), Map.of())));
        }

        @Override
        public Listing listing(SecretPath folder) {
            return new Listing(keys, List.of());
        }

        @Override
        public long write(SecretPath path, SecretDocument document, long expectedVersion) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void delete(SecretPath path) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, Object> checkHealth() {
            return Map.of();
        }
    }

    @Test
    void everyDocumentInKeyOrderAndTheNextChunkIsReadWhileOneIsMapped() {
        ChunkedStore store = new ChunkedStore(2 * StorePage.CHUNK + 500);

        List<String> ids = StorePage.readAll(store, FOLDER, document -> {
            if (document.path().ids().getLast().equals("acc_00000")) {
                // Mapping the first document waits until the second chunk has been asked for: it is read ahead.
                try {
                    assertThat(store.secondBatchAsked.await(10, TimeUnit.SECONDS)).as("second chunk read ahead").isTrue();
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            return Optional.of(String.valueOf(document.document().data().get("id")));
        });

        assertThat(ids).containsExactlyElementsOf(store.keys);
        assertThat(store.batchesStartingWith).containsExactly("acc_00000", "acc_01000", "acc_02000");
    }

    @Test
    void aChunkThatCannotBeReadFailsTheWholeReadWithItsOwnException() {
        ChunkedStore store = new ChunkedStore(3 * StorePage.CHUNK);
        store.failAt = "acc_01000";

        assertThatThrownBy(() -> StorePage.readAll(store, FOLDER, document -> Optional.of(document)))
            .isInstanceOf(StoreUnavailableException.class)
            .hasMessage("Vault is sealed");
        assertThat(store.batchesStartingWith).as("nothing read after the failed chunk").containsExactly("acc_00000", "acc_01000");
    }
}
