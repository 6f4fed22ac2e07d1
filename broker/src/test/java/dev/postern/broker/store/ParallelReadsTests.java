package dev.postern.broker.store;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParallelReadsTests {

    private static List<SecretPath> paths(int count) {
        return IntStream.range(0, count).mapToObj(i -> SecretPath.of(StoreCollection.ACCOUNTS, "acc_%05d".formatted(i))).toList();
    }

    @Test
    void answersInTheOrderOfThePathsWithAtMostTheWindowInFlight() {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<SecretPath> paths = paths(500);

        List<String> read = ParallelReads.of(paths, path -> {
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(2);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            return path.relative();
        });

        assertThat(read).containsExactlyElementsOf(paths.stream().map(SecretPath::relative).toList());
        assertThat(most.get()).isBetween(2, ParallelReads.MAX_IN_FLIGHT);
    }

    @Test
    void aFailedReadIsRethrownAsItWasAndNoReadStartsAfterIt() {
        AtomicInteger started = new AtomicInteger();
        IllegalStateException failure = new IllegalStateException("Vault is sealed");

        assertThatThrownBy(() -> ParallelReads.of(paths(10_000), path -> {
            if (started.incrementAndGet() == 10) {
                throw failure;
            }
            return path;
        })).isSameAs(failure);
        // The reads already in the window may finish; the remaining thousands never start.
        assertThat(started.get()).isLessThan(10 + 2 * ParallelReads.MAX_IN_FLIGHT);
    }
}
