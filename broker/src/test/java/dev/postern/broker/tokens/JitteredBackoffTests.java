package dev.postern.broker.tokens;

import java.time.Duration;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** The backoff after provider failures without Retry-After, with the random draw given by the test. */
class JitteredBackoffTests {

    private final JitteredBackoff backoff = new JitteredBackoff(Duration.ofMillis(500), Duration.ofSeconds(4));

    @Test
    void ceilingDoublesFromTheInitialBackoffWithEachFailureUpToTheMaximum() {
        assertThat(backoff.ceiling(1)).isEqualTo(Duration.ofMillis(500));
        assertThat(backoff.ceiling(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.ceiling(3)).isEqualTo(Duration.ofSeconds(2));
        assertThat(backoff.ceiling(4)).isEqualTo(Duration.ofSeconds(4));
        assertThat(backoff.ceiling(5)).isEqualTo(Duration.ofSeconds(4));

        JitteredBackoff defaults = new JitteredBackoff(Duration.ofSeconds(1), Duration.ofSeconds(60));
        assertThat(defaults.ceiling(6)).isEqualTo(Duration.ofSeconds(32));
        assertThat(defaults.ceiling(7)).as("64 s is above the maximum").isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void waitIsDrawnBetweenHalfTheCeilingAndTheCeiling() {
        assertThat(backoff.after(3, 0.0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(backoff.after(3, 0.5)).isEqualTo(Duration.ofMillis(1500));
        Duration highest = backoff.after(3, Math.nextDown(1.0));
        assertThat(highest).isLessThan(Duration.ofSeconds(2)).isGreaterThan(Duration.ofMillis(1999));
    }

    @Test
    void drawsSpreadEvenlyOverTheUpperHalfOfTheCeiling() {
        SplittableRandom random = new SplittableRandom(20_260_101);
        Duration ceiling = backoff.ceiling(4);
        long lowerQuarter = 0;
        long sumMillis = 0;
        int draws = 10_000;
        for (int i = 0; i < draws; i++) {
            Duration wait = backoff.after(4, random.nextDouble());
            assertThat(wait).isGreaterThanOrEqualTo(ceiling.dividedBy(2)).isLessThan(ceiling);
            if (wait.compareTo(ceiling.multipliedBy(5).dividedBy(8)) < 0) {
                lowerQuarter++;
            }
            sumMillis += wait.toMillis();
        }
        // A fixed seed: the same numbers every run. Uniform on [2 s, 4 s): mean 3 s, a quarter below 2.5 s.
        assertThat(sumMillis / draws).isBetween(2970L, 3030L);
        assertThat(lowerQuarter).isBetween(2350L, 2650L);
    }

    @Test
    void anyNumberOfFailuresStaysAtTheMaximum() {
        assertThat(backoff.ceiling(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(4));
        assertThat(backoff.after(Integer.MAX_VALUE, 0.0)).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void anInitialBackoffAboveTheMaximumIsCappedAtTheMaximum() {
        JitteredBackoff inverted = new JitteredBackoff(Duration.ofSeconds(10), Duration.ofSeconds(3));
        assertThat(inverted.ceiling(1)).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void rejectsBackoffsThatAreNotPositiveAndDrawsOutsideTheUnitInterval() {
        assertThatIllegalArgumentException().isThrownBy(() -> new JitteredBackoff(Duration.ZERO, Duration.ofSeconds(1)))
            .withMessageContaining("initial-backoff");
        assertThatIllegalArgumentException().isThrownBy(() -> new JitteredBackoff(Duration.ofSeconds(1), Duration.ofSeconds(-1)))
            .withMessageContaining("max-backoff");
        assertThatIllegalArgumentException().isThrownBy(() -> backoff.after(1, 1.0));
        assertThatIllegalArgumentException().isThrownBy(() -> backoff.after(0, 0.5));
    }
}
