package dev.postern.broker.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.postern.broker.store.EmbeddedSecretStore;
import dev.postern.broker.store.MasterKeys;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The audit trail's retention on the embedded store: whole days past it are deleted, once per interval. */
class AuditRetentionTests {

    private static final SecretPath ROOT = SecretPath.of(StoreCollection.AUDIT);

    @TempDir
    Path folder;

    private EmbeddedSecretStore store;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T08:00:00Z"));

    private AuditLog audit;

    @BeforeEach
    void open() {
        store = new EmbeddedSecretStore(folder.resolve("store.bin"), MasterKeys.fromKeyFile(folder.resolve("master.key")));
        audit = new AuditLog(store, clock, new SimpleMeterRegistry());
        for (String at : List.of("2026-12-01T08:00:00Z", "2026-12-01T23:59:59.999Z", "2026-12-02T00:00:00Z",
                "2026-12-02T13:00:00Z", "2026-12-03T09:00:00Z")) {
            clock.set(Instant.parse(at));
            audit.success("admin", "test.event", "thing", "obj_" + at.substring(8, 13).replace('T', '_'), Map.of());
            audit.flush();
        }
        // A chunk written before the buckets, at the top level, on the first day.
        long legacyAt = Instant.parse("2026-12-01T12:00:00Z").toEpochMilli();
        store.write(ROOT.child("chunk_%013d_c_legacy".formatted(legacyAt)),
                AuditChunks.documentOf(List.of(new AuditEvent("evt_%013d_%06d".formatted(legacyAt, 1),
                        Instant.ofEpochMilli(legacyAt), "admin", "test.event", "thing", "obj_legacy", "success", null, Map.of()))),
                SecretStore.NEW);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private AuditRetention retention(Duration keep) {
        return new AuditRetention(store, audit, new AuditProperties(Duration.ofSeconds(1), keep, Duration.ofHours(6)), clock);
    }

    private List<String> objects() {
        return audit.page(event -> event.action().equals("test.event"), null, null, null, 100).events().stream()
            .map(AuditEvent::objectId).toList();
    }

    @Test
    void daysWhollyOlderThanTheRetentionAreDeletedAndTheDeletionIsAudited() {
        clock.set(Instant.parse("2026-12-04T06:00:00Z")); // two days back is 12-02T06:00: the 1st is wholly older

        List<AuditChunks.Deleted> deleted = retention(Duration.ofDays(2)).deleteExpired();

        assertThat(deleted).containsExactly(new AuditChunks.Deleted("d20261201", 2), new AuditChunks.Deleted("audit", 1));
        assertThat(store.listing(ROOT).folders()).containsExactly("d20261202", "d20261203");
        assertThat(store.listing(ROOT).documents()).isEmpty();
        assertThat(objects()).containsExactly("obj_03_09", "obj_02_13", "obj_02_00");
        assertThat(audit.page(event -> event.action().equals(AuditActions.AUDIT_RETENTION), null, null, null, 10).events())
            .extracting(AuditEvent::objectId, event -> event.details().get("chunks"))
            .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("d20261201", "2"),
                    org.assertj.core.groups.Tuple.tuple("audit", "1"));
    }

    @Test
    void oneReplicaPerIntervalDeletesAndRetentionZeroKeepsEverything() {
        clock.set(Instant.parse("2026-12-10T00:00:00Z"));
        assertThat(retention(Duration.ZERO).deleteExpired()).isEmpty();
        assertThat(objects()).hasSize(6);

        AuditRetention first = retention(Duration.ofDays(7));
        AuditRetention second = retention(Duration.ofDays(7));
        assertThat(first.deleteExpired()).extracting(AuditChunks.Deleted::folder).containsExactly("d20261201", "d20261202", "audit");
        clock.advance(Duration.ofHours(1));
        assertThat(second.deleteExpired()).as("the first holds the lease for the interval").isEmpty();
        assertThat(objects()).containsExactly("obj_03_09");

        clock.set(Instant.parse("2026-12-11T00:00:00Z"));
        assertThat(second.deleteExpired()).as("the lease ran out").containsExactly(new AuditChunks.Deleted("d20261203", 1));
        assertThat(objects()).isEmpty();
        audit.flush();
        assertThat(store.listing(ROOT).folders()).doesNotContain("d20261203").contains("d20261210");
    }

    @Test
    void aRetentionUnderADayIsRefused() {
        assertThatThrownBy(() -> new AuditProperties(Duration.ofSeconds(1), Duration.ofHours(12), Duration.ofHours(6)))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("postern.audit.retention");
    }
}
