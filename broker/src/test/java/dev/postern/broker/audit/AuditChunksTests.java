package dev.postern.broker.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.postern.broker.store.EmbeddedSecretStore;
import dev.postern.broker.store.MasterKeys;
import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoredDocument;
import dev.postern.broker.testing.ForwardingStore;
import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail's layout in hour buckets on the embedded store: a chunk never holds two hours'
 * events, a page LISTs and reads only the buckets and chunks it reaches, and chunks written before
 * the buckets are paged in time order with the rest.
 */
class AuditChunksTests {

    private static final SecretPath ROOT = SecretPath.of(StoreCollection.AUDIT);

    @TempDir
    Path folder;

    private EmbeddedSecretStore embedded;

    private final List<String> listed = new ArrayList<>();

    private final List<String> read = java.util.Collections.synchronizedList(new ArrayList<>());

    /** Chunks written. */
    private final java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();

    /** The size of each batch of chunks read together. */
    private final List<Integer> batches = new ArrayList<>();

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T10:59:59.500Z"));

    private AuditLog audit;

    @BeforeEach
    void open() {
        embedded = new EmbeddedSecretStore(folder.resolve("store.bin"), MasterKeys.fromKeyFile(folder.resolve("master.key")));
        audit = new AuditLog(new Recorded(), clock, new SimpleMeterRegistry());
    }

    @AfterEach
    void close() {
        embedded.close();
    }

    private void record(String object) {
        audit.success("admin", "test.event", "thing", object, Map.of());
    }

    @Test
    void aChunkHoldsOneHoursEventsInThatHoursBucket() {
        record("obj_1");
        clock.advance(Duration.ofMillis(400)); // 10:59:59.900
        record("obj_2");
        clock.advance(Duration.ofMillis(200)); // 11:00:00.100
        record("obj_3");

        audit.flush();

        assertThat(embedded.listing(ROOT).folders()).containsExactly("d20261204");
        assertThat(embedded.listing(ROOT).documents()).isEmpty();
        assertThat(embedded.listing(ROOT.child("d20261204")).folders()).containsExactly("h10", "h11");
        assertThat(embedded.list(ROOT.child("d20261204").child("h10"))).singleElement().asString()
            .startsWith("chunk_%013d_%013d_n2_".formatted(Instant.parse("2026-12-04T10:59:59.900Z").toEpochMilli(),
                    Instant.parse("2026-12-04T10:59:59.500Z").toEpochMilli()));
        assertThat(embedded.list(ROOT.child("d20261204").child("h11"))).hasSize(1);
        assertThat(objects(audit.page(event -> true, null, null, null, 10).events())).containsExactly("obj_3", "obj_2", "obj_1");
    }

    @Test
    void aPageShowsWhatThisReplicaHasNotFlushedYetAndWritesNothing() {
        record("obj_written");
        audit.flush();
        clock.advance(Duration.ofSeconds(1));
        record("obj_in_memory");
        audit.recordRepeated("admin", "test.repeat", "thing", "obj_counted", "success", Map.of());
        int written = writes.get();

        assertThat(objects(audit.page(event -> true, null, null, null, 10).events()))
            .containsExactlyInAnyOrder("obj_counted", "obj_in_memory", "obj_written");
        assertThat(writes.get()).as("chunks written by the page").isEqualTo(written);

        audit.flush();
        assertThat(objects(audit.page(event -> true, null, null, null, 10).events())).as("once each after the flush")
            .containsExactlyInAnyOrder("obj_counted", "obj_in_memory", "obj_written");
    }

    @Test
    void aPageListsAndReadsOnlyTheBucketsItReaches() {
        // Three days of events, an hour apart within each day.
        for (String day : List.of("2026-12-01", "2026-12-02", "2026-12-03")) {
            for (int hour = 8; hour < 12; hour++) {
                clock.set(Instant.parse("%sT%02d:15:00Z".formatted(day, hour)));
                record("obj_%s_%02d".formatted(day.substring(8), hour));
                audit.flush();
            }
        }
        listed.clear();
        read.clear();

        List<AuditEvent> newest = audit.page(event -> true, null, null, null, 2).events();

        assertThat(objects(newest)).containsExactly("obj_03_11", "obj_03_10");
        assertThat(listed).containsExactly("audit", "audit/d20261203", "audit/d20261203/h11", "audit/d20261203/h10");
        assertThat(read).hasSize(2);

        listed.clear();
        read.clear();
        List<AuditEvent> older = audit.page(event -> true, null, Instant.parse("2026-12-02T10:00:00Z"), null, 2).events();

        assertThat(objects(older)).containsExactly("obj_02_09", "obj_02_08");
        // The later day and hour lie after the range: neither is listed. The earlier day is not reached.
        assertThat(listed).containsExactly("audit", "audit/d20261202", "audit/d20261202/h10", "audit/d20261202/h09",
                "audit/d20261202/h08");
        assertThat(read).hasSize(2);
    }

    @Test
    void theChunksAPageNeedsByTheirCountsAreReadTogether() {
        for (int chunk = 0; chunk < 10; chunk++) {
            clock.set(Instant.parse("2026-12-03T09:00:00Z").plusSeconds(chunk));
            for (int i = 0; i < 3; i++) {
                record("obj_%d_%d".formatted(chunk, i));
            }
            audit.flush();
        }
        read.clear();

        assertThat(audit.page(event -> true, null, null, null, 20).events()).hasSize(20);
        assertThat(batches).as("7 chunks of 3 events, in one round").containsExactly(7);

        batches.clear();
        assertThat(audit.page(event -> event.objectId().endsWith("_0"), null, null, null, 5).events()).hasSize(5);
        assertThat(batches).as("a filter keeps fewer than counted: rounds until the page is full").containsExactly(2, 3);
    }

    @Test
    void aPageEndsAtItsBudgetOfStoreCallsAndTheNextGoesOnWithoutAGapOrARepeat() {
        Instant hour = Instant.parse("2026-12-03T09:00:00Z");
        List<AuditEvent> matching = new ArrayList<>();
        // 250 chunks of one event each, a second apart; every 50th event matches the filter.
        for (int i = 0; i < 250; i++) {
            clock.set(hour.plusSeconds(i));
            record(i % 50 == 0 ? "obj_match_" + i : "obj_other_" + i);
            audit.flush();
        }
        // A chunk whose span reaches over all the others (a flush after an outage), with one match at its old end.
        AuditEvent old = new AuditEvent("evt_%013d_%06d".formatted(hour.toEpochMilli() - 1, 7), hour.minusMillis(1), "admin",
                "test.event", "thing", "obj_match_wide", "success", null, Map.of());
        AuditEvent recent = new AuditEvent("evt_%013d_%06d".formatted(hour.plusSeconds(300).toEpochMilli(), 7),
                hour.plusSeconds(300), "admin", "test.event", "thing", "obj_other_wide", "success", null, Map.of());
        embedded.write(AuditChunks.newChunkPath(List.of(old, recent)), AuditChunks.documentOf(List.of(old, recent)),
                SecretStore.NEW);

        List<String> found = new ArrayList<>();
        List<Integer> calls = new ArrayList<>();
        String before = null;
        AuditPage page;
        do {
            read.clear();
            listed.clear();
            page = audit.page(event -> event.objectId().startsWith("obj_match"), null, null, before, 10);
            calls.add(read.size() + listed.size());
            found.addAll(objects(page.events()));
            before = page.resumeBefore();
        }
        while (before != null);

        assertThat(found).containsExactly("obj_match_200", "obj_match_150", "obj_match_100", "obj_match_50", "obj_match_0",
                "obj_match_wide");
        assertThat(calls).as("store calls per page").hasSizeGreaterThan(1)
            .allSatisfy(made -> assertThat(made).isLessThanOrEqualTo(AuditLog.STORE_CALLS_PER_PAGE + 16));
    }

    @Test
    void pagingWithTheCursorWalksEveryBucketOnceInOrder() {
        List<String> recorded = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            clock.set(Instant.parse("2026-12-03T22:00:00Z").plus(Duration.ofMinutes(7L * i)));
            record("obj_" + i);
            recorded.add("obj_" + i);
            if (i % 4 == 0) {
                audit.flush();
            }
        }
        List<String> paged = new ArrayList<>();
        String before = null;
        do {
            List<AuditEvent> page = audit.page(event -> true, null, null, before, 4).events();
            paged.addAll(objects(page));
            before = page.size() == 4 ? page.getLast().id() : null;
        }
        while (before != null);

        assertThat(paged).containsExactlyElementsOf(recorded.reversed());
    }

    @Test
    void chunksWrittenBeforeTheBucketsArePagedInTimeOrderWithTheRest() {
        clock.set(Instant.parse("2026-12-03T09:00:00Z"));
        record("obj_bucketed_old");
        clock.set(Instant.parse("2026-12-03T11:00:00Z"));
        record("obj_bucketed_new");
        audit.flush();
        long legacyAt = Instant.parse("2026-12-03T10:00:00Z").toEpochMilli();
        AuditEvent legacy = new AuditEvent("evt_%013d_%06d".formatted(legacyAt, 1), Instant.ofEpochMilli(legacyAt), "admin",
                "test.event", "thing", "obj_legacy", "success", null, Map.of());
        embedded.write(ROOT.child("chunk_%013d_c_legacy".formatted(legacyAt)), AuditChunks.documentOf(List.of(legacy)),
                SecretStore.NEW);

        assertThat(objects(audit.page(event -> true, null, null, null, 10).events()))
            .containsExactly("obj_bucketed_new", "obj_legacy", "obj_bucketed_old");
        assertThat(objects(audit.page(event -> event.objectId().startsWith("obj_b"), null, null, null, 10).events()))
            .containsExactly("obj_bucketed_new", "obj_bucketed_old");
    }

    @Test
    void foldersAndDocumentsTheBrokerDidNotNameAreNoPartOfTheTrail() {
        clock.set(Instant.parse("2026-12-03T09:00:00Z"));
        record("obj_real");
        audit.flush();
        AuditEvent planted = new AuditEvent("evt_%013d_%06d".formatted(0, 1), Instant.EPOCH, "admin", "test.event", "thing",
                "obj_planted", "success", null, Map.of());
        for (SecretPath odd : List.of(ROOT.child("d20261399").child("h01").child("chunk_0000000000001_0000000000000_c_x"),
                ROOT.child("d20261203").child("h24").child("chunk_0000000000001_0000000000000_c_x"),
                ROOT.child("d20261203").child("h09").child("notes"), ROOT.child("other").child("h09").child("chunk_x"))) {
            embedded.write(odd, AuditChunks.documentOf(List.of(planted)), SecretStore.NEW);
        }

        assertThat(objects(audit.page(event -> true, null, null, null, 10).events())).containsExactly("obj_real");
    }

    private static List<String> objects(List<AuditEvent> events) {
        return events.stream().map(AuditEvent::objectId).toList();
    }

    /** The embedded store, noting each LIST, read and batch of reads of the audit trail. */
    private final class Recorded extends ForwardingStore {

        Recorded() {
            super(embedded);
        }

        @Override
        public Optional<StoredDocument> read(SecretPath path) {
            read.add(path.relative());
            return backend.read(path);
        }

        @Override
        public List<Optional<StoredDocument>> readAll(List<SecretPath> paths) {
            batches.add(paths.size());
            return super.readAll(paths);
        }

        @Override
        public long write(SecretPath path, SecretDocument document, long expectedVersion) {
            writes.incrementAndGet();
            return backend.write(path, document, expectedVersion);
        }

        @Override
        public Listing listing(SecretPath folder) {
            listed.add(folder.relative());
            return backend.listing(folder);
        }
    }
}
