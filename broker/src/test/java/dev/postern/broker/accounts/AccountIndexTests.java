package dev.postern.broker.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import dev.postern.broker.accounts.Account.Status;
import dev.postern.broker.providers.ProviderKind;

/**
 * The in-memory account index without a peer: filters and the cursor, an older read never
 * overwriting a newer write, and what it costs at 100,000 accounts (time of a filter that matches
 * nothing, heap per account; printed as {@code SCALE} lines, measured in docs/performance.md).
 */
class AccountIndexTests {

    private static Account account(String id, String appId, String mailbox, Status status) {
        Instant at = Instant.parse("2026-12-01T00:00:00Z");
        return new Account(id, appId, ProviderKind.GENERIC, mailbox, status, "mail", at, at, null, null, null);
    }

    private static List<String> ids(Iterator<String> ids) {
        List<String> list = new ArrayList<>();
        ids.forEachRemaining(list::add);
        return list;
    }

    private static List<String> matching(AccountIndex index, @Nullable String after, @Nullable String appId,
            @Nullable Status status, @Nullable String prefix) {
        return ids(index.matching(after, appId, status, prefix));
    }

    @Test
    void filtersByAppStatusAndMailboxPrefixInIdOrderAfterTheCursor() {
        AccountIndex index = new AccountIndex();
        index.seen(account("acc_d", "app_1", "bob@example.test", Status.ACTIVE), 1);
        index.seen(account("acc_a", "app_1", "alice@example.test", Status.ACTIVE), 1);
        index.seen(account("acc_c", "app_2", "alice@example.test", Status.REAUTH_REQUIRED), 1);
        index.seen(account("acc_b", "app_2", "alfred@example.test", Status.ACTIVE), 1);

        assertThat(matching(index, null, null, null, null)).containsExactly("acc_a", "acc_b", "acc_c", "acc_d");
        assertThat(matching(index, null, "app_2", null, null)).containsExactly("acc_b", "acc_c");
        assertThat(matching(index, null, null, Status.ACTIVE, "al")).containsExactly("acc_a", "acc_b");
        assertThat(matching(index, null, null, null, "alice@")).containsExactly("acc_a", "acc_c");
        assertThat(matching(index, "acc_a", null, null, "alice@")).containsExactly("acc_c");
        assertThat(matching(index, "acc_aa", null, null, null)).as("the first id greater than the cursor")
            .containsExactly("acc_b", "acc_c", "acc_d");
        assertThat(matching(index, null, "app_3", null, null)).isEmpty();
        assertThat(index.complete()).as("complete only after a read of every account").isFalse();
    }

    @Test
    void anOlderReadNeverOverwritesANewerWrite() {
        AccountIndex index = new AccountIndex();
        index.seen(account("acc_a", "app_1", "alice@example.test", Status.REVOKED), 7);
        // A read that started before the revoke and answers after it.
        index.seen(account("acc_a", "app_1", "alice@example.test", Status.ACTIVE), 6);
        assertThat(matching(index, null, null, Status.REVOKED, null)).containsExactly("acc_a");
        index.seen(account("acc_a", "app_1", "alice@example.test", Status.ACTIVE), 8);
        assertThat(matching(index, null, null, Status.REVOKED, null)).isEmpty();
        assertThat(index.size()).isEqualTo(1);
    }

    @Test
    void aHundredThousandAccounts() {
        int n = 100_000;
        long before = usedHeap();
        AccountIndex index = new AccountIndex();
        for (int i = 0; i < n; i++) {
            // Ids, addresses and app ids as fresh strings, as a store read gives them.
            index.seen(account(new String("acc_" + Integer.toString(i, 32) + "x7q2m4n6p8r2k3j5".substring(0, 12)),
                    new String("app_" + (i % 10_000) + "k3j5x7q2m4n6"), "scale-%06d@example.test".formatted(i),
                    Status.ACTIVE), 1);
        }
        long after = usedHeap();
        System.out.printf("SCALE account index: %d accounts, %.0f bytes per account on the heap%n", index.size(),
                (after - before) / (double) n);

        long[] micros = new long[20];
        for (int run = 0; run < micros.length; run++) {
            long started = System.nanoTime();
            assertThat(index.matching(null, null, Status.ACTIVE, "scale-0999x").hasNext()).isFalse();
            micros[run] = (System.nanoTime() - started) / 1_000;
        }
        java.util.Arrays.sort(micros);
        System.out.printf("SCALE account index: a filter that matches nothing walks %d entries in %.1f ms (median of %d)%n",
                n, micros[micros.length / 2] / 1e3, micros.length);
        assertThat(matching(index, null, null, null, "scale-09999")).hasSize(10);
        assertThat(index.size()).isEqualTo(n);
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
