package dev.postern.broker.store;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The one lease primitive on the embedded store: two replicas, one holder at a time. */
class LeaseDocumentTests {

    static final SecretPath PATH = SecretPath.of(StoreCollection.LEASES, "expiry-scan");

    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    @TempDir
    Path folder;

    private EmbeddedSecretStore store;

    private EmbeddedSecretStore store() {
        if (store == null) {
            store = new EmbeddedSecretStore(folder.resolve("store.bin"), MasterKeys.fromKeyFile(folder.resolve("master.key")));
        }
        return store;
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void oneReplicaHoldsTheLeaseUntilItRunsOutAndMayRenewIt() {
        LeaseDocument a = new LeaseDocument(store(), PATH, "replica-a");
        LeaseDocument b = new LeaseDocument(store(), PATH, "replica-b");

        assertThat(a.tryAcquire(NOW, Duration.ofMinutes(1))).isTrue();
        assertThat(b.tryAcquire(NOW.plusSeconds(30), Duration.ofMinutes(1))).as("held by a").isFalse();
        assertThat(a.tryAcquire(NOW.plusSeconds(50), Duration.ofMinutes(1))).as("renewed by its holder").isTrue();
        assertThat(b.tryAcquire(NOW.plusSeconds(100), Duration.ofMinutes(1))).as("a's renewal runs to 110 s").isFalse();
        assertThat(b.tryAcquire(NOW.plusSeconds(111), Duration.ofMinutes(1))).as("run out: anyone may take it").isTrue();
        assertThat(a.tryAcquire(NOW.plusSeconds(112), Duration.ofMinutes(1))).isFalse();
    }

    @Test
    void theLeaseFieldsRoundTripAndLeaveOtherDataAlone() {
        var data = new java.util.HashMap<String, Object>(Lease.addTo(java.util.Map.of("mailbox", "a@example.test"),
                new Lease("replica-a", NOW)));

        assertThat(Lease.takeFrom(data)).contains(new Lease("replica-a", NOW));
        assertThat(data).containsExactly(java.util.Map.entry("mailbox", "a@example.test"));
        assertThat(Lease.takeFrom(data)).isEmpty();
        assertThat(new Lease("replica-a", NOW).heldByAnother("replica-b", NOW.minusMillis(1))).isTrue();
        assertThat(new Lease("replica-a", NOW).heldByAnother("replica-a", NOW.minusMillis(1))).isFalse();
        assertThat(new Lease("replica-a", NOW).heldByAnother("replica-b", NOW)).as("ends at until").isFalse();
    }
}
