package dev.postern.broker.store;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.postern.broker.testing.TestVaultCluster;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Why Postern needs {@code disable_standby_reads = true} on an OpenBao Raft cluster. By default
 * (since OpenBao 2.5) a standby answers reads from its own copy of the data, which follows the
 * active node's writes with a delay. A document read right after it was written is then often the
 * version before: Postern reads a mailbox's refresh token and spends it at the provider, so it would
 * spend one the last refresh already rotated away. The standby also checks a write's {@code cas}
 * against its late copy before forwarding the write, so a write naming the version just written is
 * refused as a conflict. With the setting, standbys forward every request to the active node, and
 * neither happens.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class VaultClusterReadAfterWriteIntegrationTests {

    /** Rotations of one refresh token, each written and read back at once through a standby. */
    static final int ROTATIONS = 50;

    /** How long one rotation may keep meeting false conflicts before the test gives up. */
    static final Duration CONFLICTS_FOR_AT_MOST = Duration.ofSeconds(5);

    /** What a standby got wrong: older refresh tokens read back, writes refused though their version was current. */
    record Staleness(int staleReads, int falseConflicts) {
    }

    @Test
    void withStandbyReadsAStandbyAnswersFromBeforeTheLastRotation() throws InterruptedException {
        try (TestVaultCluster cluster = TestVaultCluster.startWithStandbyReads(2)) {
            Staleness staleness = rotateThroughAStandby(cluster);
            System.out.printf("[raft] standby reads on (OpenBao's default), %d refresh token rotations through a standby: "
                    + "%d read back as an older token, %d writes refused as conflicts though their version was current%n",
                    ROTATIONS, staleness.staleReads(), staleness.falseConflicts());
            assertThat(staleness.staleReads() + staleness.falseConflicts()).isPositive();
        }
    }

    @Test
    void withStandbyReadsDisabledAStandbySeesEveryRotation() throws InterruptedException {
        try (TestVaultCluster cluster = TestVaultCluster.start(2)) {
            Staleness staleness = rotateThroughAStandby(cluster);
            System.out.printf("[raft] disable_standby_reads = true, %d refresh token rotations through a standby: "
                    + "%d read back as an older token, %d writes refused as conflicts though their version was current%n",
                    ROTATIONS, staleness.staleReads(), staleness.falseConflicts());
            assertThat(staleness).isEqualTo(new Staleness(0, 0));
        }
    }

    /**
     * Writes a new refresh token with the version the previous write returned, through a standby,
     * and reads it back through it at once.
     */
    private static Staleness rotateThroughAStandby(TestVaultCluster cluster) throws InterruptedException {
        TestVaultCluster.Node active = cluster.leader().orElseThrow();
        TestVaultCluster.Node standby = cluster.nodes().stream().filter(node -> node != active).findFirst().orElseThrow();
        SecretStore store = VaultStores.store(standby.address(), cluster.rootToken(), "postern-raw-" + UUID.randomUUID() + "/");
        SecretPath path = SecretPath.of(StoreCollection.ACCOUNTS, "acc_rotating");
        long version = SecretStore.NEW;
        int staleReads = 0;
        int falseConflicts = 0;
        for (int i = 0; i < ROTATIONS; i++) {
            String refreshToken = "rt-rotation-" + i;
            SecretDocument document = new SecretDocument(Map.of("rotation", i), Map.of("refresh_token", refreshToken));
            long deadline = System.nanoTime() + CONFLICTS_FOR_AT_MOST.toNanos();
            while (true) {
                try {
                    version = store.write(path, document, version);
                    break;
                }
                catch (VersionConflictException ex) {
                    // Nobody else writes here: the version named is the current one.
                    falseConflicts++;
                    assertThat(System.nanoTime()).as("a write of rotation %d refused for %s", i, CONFLICTS_FOR_AT_MOST)
                        .isLessThan(deadline);
                    Thread.sleep(20);
                }
            }
            String read = store.read(path).map(stored -> stored.document().secret("refresh_token")).orElse(null);
            if (!refreshToken.equals(read)) {
                staleReads++;
            }
        }
        return new Staleness(staleReads, falseConflicts);
    }
}
