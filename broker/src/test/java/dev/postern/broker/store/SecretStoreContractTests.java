package dev.postern.broker.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The contract every {@link SecretStore} keeps, run against each implementation with a real
 * backend: versions, compare-and-set, delete, list, path validation and no lost update under
 * contention.
 */
abstract class SecretStoreContractTests {

    protected SecretStore store;

    /** A store over an empty area of its backend. */
    protected abstract SecretStore createStore();

    @BeforeEach
    void openStore() {
        store = createStore();
    }

    private static SecretPath app(String id) {
        return SecretPath.of(StoreCollection.APPS, id);
    }

    @Test
    void readWhenMissingThenEmpty() {
        assertThat(store.read(app("app_missing"))).isEmpty();
    }

    @Test
    void writeWhenNewThenVersionOneAndContentReadBack() {
        SecretDocument document = new SecretDocument(Map.of("name", "Contoso mail", "scopes", List.of("a", "b")),
                Map.of("client_secret", "s3cr3t-value"));

        long version = store.write(app("app_one"), document, SecretStore.NEW);

        assertThat(version).isEqualTo(1);
        StoredDocument read = store.read(app("app_one")).orElseThrow();
        assertThat(read.version()).isEqualTo(1);
        assertThat(read.document().data()).containsEntry("name", "Contoso mail")
            .containsEntry("scopes", List.of("a", "b"));
        assertThat(read.document().secret("client_secret")).isEqualTo("s3cr3t-value");
        assertThat(read.toString()).doesNotContain("s3cr3t-value");
    }

    @Test
    void secretsWhenUnicodeEmptyOrLargeThenReadBackExactlyAndARewriteReplacesThem() {
        String large = "x".repeat(16 * 1024);
        long first = store.write(app("app_secrets"), new SecretDocument(Map.of(),
                Map.of("unicode", "pässwörd-🔑-密码", "empty", "", "large", large)), SecretStore.NEW);

        assertThat(store.read(app("app_secrets")).orElseThrow().document().secrets())
            .containsExactlyInAnyOrderEntriesOf(Map.of("unicode", "pässwörd-🔑-密码", "empty", "", "large", large));

        store.write(app("app_secrets"), new SecretDocument(Map.of(), Map.of("unicode", "changed")), first);
        assertThat(store.read(app("app_secrets")).orElseThrow().document().secrets())
            .containsExactlyEntriesOf(Map.of("unicode", "changed"));
    }

    @Test
    void writeWhenVersionMatchesThenVersionGrows() {
        long first = store.write(app("app_two"), SecretDocument.of(Map.of("n", 1)), SecretStore.NEW);
        long second = store.write(app("app_two"), SecretDocument.of(Map.of("n", 2)), first);

        assertThat(second).isEqualTo(first + 1);
        assertThat(store.read(app("app_two")).orElseThrow().document().data()).containsEntry("n", 2);
    }

    @Test
    void writeWhenVersionIsStaleThenConflictAndNewerContentKept() {
        long first = store.write(app("app_three"), SecretDocument.of(Map.of("n", 1)), SecretStore.NEW);
        store.write(app("app_three"), SecretDocument.of(Map.of("n", 2)), first);

        assertThatThrownBy(() -> store.write(app("app_three"), SecretDocument.of(Map.of("n", 99)), first))
            .isInstanceOf(VersionConflictException.class);
        assertThat(store.read(app("app_three")).orElseThrow().document().data()).containsEntry("n", 2);
    }

    @Test
    void writeNewWhenDocumentExistsThenConflict() {
        store.write(app("app_four"), SecretDocument.of(Map.of("n", 1)), SecretStore.NEW);

        assertThatThrownBy(() -> store.write(app("app_four"), SecretDocument.of(Map.of("n", 2)), SecretStore.NEW))
            .isInstanceOf(VersionConflictException.class);
    }

    @Test
    void writeWhenDocumentMissingAndVersionGivenThenConflict() {
        assertThatThrownBy(() -> store.write(app("app_absent"), SecretDocument.of(Map.of("n", 1)), 3))
            .isInstanceOf(VersionConflictException.class);
        assertThat(store.read(app("app_absent"))).isEmpty();
    }

    @Test
    void deleteThenGoneAndCreatedAgainFromVersionOne() {
        long version = store.write(app("app_five"), SecretDocument.of(Map.of("n", 1)), SecretStore.NEW);
        store.write(app("app_five"), SecretDocument.of(Map.of("n", 2)), version);

        store.delete(app("app_five"));

        assertThat(store.read(app("app_five"))).isEmpty();
        assertThat(store.list(SecretPath.of(StoreCollection.APPS))).doesNotContain("app_five");
        assertThat(store.write(app("app_five"), SecretDocument.of(Map.of("n", 3)), SecretStore.NEW)).isEqualTo(1);
    }

    @Test
    void deleteWhenMissingThenNothingHappens() {
        store.delete(app("app_never"));

        assertThat(store.read(app("app_never"))).isEmpty();
    }

    @Test
    void listThenDocumentIdsOfThatFolderOnlySorted() {
        store.write(app("app_b"), SecretDocument.of(Map.of()), SecretStore.NEW);
        store.write(app("app_a"), SecretDocument.of(Map.of()), SecretStore.NEW);
        store.write(SecretPath.of(StoreCollection.ACCOUNTS, "acc_x"), SecretDocument.of(Map.of()), SecretStore.NEW);
        store.write(SecretPath.of(StoreCollection.AUDIT, "day_1", "evt_1"), SecretDocument.of(Map.of()),
                SecretStore.NEW);

        assertThat(store.list(SecretPath.of(StoreCollection.APPS))).containsExactly("app_a", "app_b");
        assertThat(store.list(SecretPath.of(StoreCollection.AUDIT))).isEmpty();
        assertThat(store.list(SecretPath.of(StoreCollection.AUDIT, "day_1"))).containsExactly("evt_1");
        assertThat(store.list(SecretPath.of(StoreCollection.CLIENTS))).isEmpty();
    }

    @Test
    void listingThenDocumentsAndFoldersDirectlyInsideEachSortedWithoutTheirSlash() {
        store.write(SecretPath.of(StoreCollection.AUDIT, "d2", "h01", "chunk_a"), SecretDocument.of(Map.of()), SecretStore.NEW);
        store.write(SecretPath.of(StoreCollection.AUDIT, "d1", "h23", "chunk_b"), SecretDocument.of(Map.of()), SecretStore.NEW);
        store.write(SecretPath.of(StoreCollection.AUDIT, "d1", "h22", "chunk_c"), SecretDocument.of(Map.of()), SecretStore.NEW);
        store.write(SecretPath.of(StoreCollection.AUDIT, "chunk_top"), SecretDocument.of(Map.of()), SecretStore.NEW);

        SecretStore.Listing top = store.listing(SecretPath.of(StoreCollection.AUDIT));
        assertThat(top.documents()).containsExactly("chunk_top");
        assertThat(top.folders()).containsExactly("d1", "d2");
        assertThat(store.listing(SecretPath.of(StoreCollection.AUDIT, "d1")).folders()).containsExactly("h22", "h23");
        assertThat(store.listing(SecretPath.of(StoreCollection.AUDIT, "d1", "h23")))
            .isEqualTo(new SecretStore.Listing(List.of("chunk_b"), List.of()));
        assertThat(store.listing(SecretPath.of(StoreCollection.CLIENTS))).isEqualTo(new SecretStore.Listing(List.of(), List.of()));
    }

    @Test
    void writeWhenDocumentHoldsHundredsOfEntriesThenAllReadBack() {
        List<Map<String, Object>> events = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            events.add(Map.of("id", "evt_" + i, "at", "2026-11-25T12:00:00Z", "details", Map.of("source", "cache")));
        }

        store.write(SecretPath.of(StoreCollection.AUDIT, "chunk_big"), SecretDocument.of(Map.of("events", events)),
                SecretStore.NEW);

        assertThat((List<?>) store.read(SecretPath.of(StoreCollection.AUDIT, "chunk_big")).orElseThrow().document().data()
            .get("events")).hasSize(500);
    }

    @ParameterizedTest
    @ValueSource(strings = { "../etc", "..", "%2e%2e", "a/b", "a%2Fb", "a\u0000b", "UPPER", "", " ", "ａｐｐ",
            "app\u202e", "_leading", "a.b",
            "a123456789012345678901234567890123456789012345678901234567890123456789" })
    void pathWhenIdIsNotPlainThenRejectedBeforeTheBackend(String id) {
        assertThatThrownBy(() -> SecretPath.of(StoreCollection.APPS, id))
            .isInstanceOf(InvalidSecretPathException.class);
    }

    @Test
    void readWhenPathIsABareCollectionThenRejected() {
        assertThatThrownBy(() -> store.read(SecretPath.of(StoreCollection.APPS)))
            .isInstanceOf(InvalidSecretPathException.class);
    }

    @Test
    void casIncrementsFromEightThreadsLoseNoUpdate() throws Exception {
        int threads = 8;
        int incrementsPerThread = 500;
        SecretPath counter = SecretPath.of(StoreCollection.SYSTEM, "counter");
        store.write(counter, SecretDocument.of(Map.of("value", 0)), SecretStore.NEW);
        AtomicInteger conflicts = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Callable<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(() -> {
                    for (int i = 0; i < incrementsPerThread; i++) {
                        while (true) {
                            StoredDocument current = store.read(counter).orElseThrow();
                            int value = ((Number) current.document().data().get("value")).intValue();
                            try {
                                store.write(counter, SecretDocument.of(Map.of("value", value + 1)), current.version());
                                break;
                            }
                            catch (VersionConflictException ex) {
                                conflicts.incrementAndGet();
                            }
                        }
                    }
                    return null;
                });
            }
            for (Future<Void> done : pool.invokeAll(workers, 5, TimeUnit.MINUTES)) {
                done.get();
            }
        }
        finally {
            pool.shutdownNow();
        }

        StoredDocument result = store.read(counter).orElseThrow();
        assertThat(((Number) result.document().data().get("value")).intValue()).isEqualTo(threads * incrementsPerThread);
        assertThat(result.version()).isEqualTo(threads * incrementsPerThread + 1L);
        System.out.printf("[%s] 8 x 500 CAS increments: %d conflicts retried, no update lost%n",
                getClass().getSimpleName(), conflicts.get());
    }
}
