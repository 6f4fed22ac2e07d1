package dev.postern.broker.audit;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.VaultStores;
import dev.postern.broker.testing.TestVaultCluster;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail's flush against a real one-node OpenBao Raft cluster, whose entries are at most
 * 1 MiB (Raft's {@code max_entry_size}; OpenBao answers 500 "value being too large"): a chunk over
 * it is stored in halves, an event over it alone is dropped and counted instead of being retried
 * for ever; while the node is down events are kept, at most {@link AuditLog#MAX_PENDING_EVENTS},
 * and stored once it is back.
 */
@Timeout(300)
class AuditChunkRefusalIntegrationTests {

    private static TestVaultCluster raft;

    @BeforeAll
    static void start() {
        raft = TestVaultCluster.start(1);
    }

    @AfterAll
    static void stop() {
        raft.close();
    }

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private AuditLog auditLog() {
        SecretStore store = VaultStores.store(raft.nodes().getFirst().address(), raft.rootToken(),
                "audit-" + UUID.randomUUID() + "/");
        return new AuditLog(store, Clock.systemUTC(), meters);
    }

    private double dropped(String reason) {
        return meters.counter("postern_audit_events_dropped_total", "reason", reason).count();
    }

    @Test
    void aChunkOverRaftsEntryLimitIsStoredInHalvesAndAnEventOverItAloneIsDroppedAndCounted() {
        AuditLog audit = auditLog();
        // 500 events of 12 KB: chunks of 100 are 1.2 MB, which Raft refuses; their halves are stored.
        String filler = "x".repeat(12_000);
        for (int i = 0; i < 499; i++) {
            if (i == 300) {
                audit.record("system", "test.huge", "thing", "obj_huge", "success", Map.of("filler", "y".repeat(1_100_000)));
            }
            audit.record("system", "test.fill", "thing", "obj_" + i, "success", Map.of("filler", filler));
        }

        audit.flush();

        List<AuditEvent> stored = audit.page(event -> true, null, null, null, 1_000).events();
        assertThat(stored).filteredOn(event -> event.action().equals("test.fill")).hasSize(499);
        assertThat(stored).noneMatch(event -> event.action().equals("test.huge"));
        assertThat(dropped("refused")).isEqualTo(1);

        // Nothing of the refused chunk is held back: the next flush stores only what came since.
        audit.record("system", "test.after", "thing", "obj_after", "success", Map.of());
        audit.flush();
        assertThat(audit.page(event -> true, null, null, null, 1_000).events()).hasSize(500)
            .anyMatch(event -> event.action().equals("test.after"));
        assertThat(dropped("refused")).isEqualTo(1);
    }

    @Test
    void whileTheStoreIsDownEventsAreKeptUpToTheBoundAndStoredOnceItIsBack() {
        AuditLog audit = auditLog();
        TestVaultCluster.Node node = raft.nodes().getFirst();
        raft.stop(node);
        try {
            for (int i = 0; i < AuditLog.MAX_PENDING_EVENTS + 10; i++) {
                audit.record("system", "test.outage", "thing", "obj_" + i, "success", Map.of());
            }
            audit.flush();
            audit.flush();
            assertThat(dropped("backlog_full")).as("the oldest over the bound").isEqualTo(10);
            assertThat(dropped("refused")).isZero();
        }
        finally {
            raft.restart(node);
            raft.awaitLeader(java.time.Duration.ofSeconds(60));
        }

        audit.flush();

        List<AuditEvent> stored = new java.util.ArrayList<>();
        String before = null;
        do { // page after page, as the API's cursor goes: no page reads more than its budget of chunks
            AuditPage page = audit.page(event -> true, null, null, before, 500);
            stored.addAll(page.events());
            before = page.events().size() == 500 ? page.events().getLast().id() : page.resumeBefore();
        }
        while (before != null);
        assertThat(stored).hasSize(AuditLog.MAX_PENDING_EVENTS);
        assertThat(stored).extracting(AuditEvent::objectId).doesNotContain("obj_0", "obj_9").contains("obj_10",
                "obj_" + (AuditLog.MAX_PENDING_EVENTS + 9));
    }
}
