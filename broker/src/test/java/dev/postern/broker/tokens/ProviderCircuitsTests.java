package dev.postern.broker.tokens;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;

/** One circuit per provider token endpoint: when it opens, how long it stays open, and its one trial call. */
class ProviderCircuitsTests {

    static final String ENDPOINT = "generic https://idp.example.test/token";

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-05T12:00:00Z"));

    private final ProviderCircuits circuits = new ProviderCircuits(clock, new TokenProperties(Duration.ofMinutes(5),
            Duration.ofMinutes(10), Duration.ofMinutes(15), Duration.ofSeconds(20), Duration.ofSeconds(1),
            Duration.ofSeconds(60), Duration.ofDays(30), 5, Duration.ofSeconds(30), Duration.ofHours(1), 4));

    private void fail(int times) {
        for (int i = 0; i < times; i++) {
            circuits.failed(ENDPOINT);
        }
    }

    @Test
    void opensAfterFiveFailuresInARowAndAnAnswerInBetweenStartsTheCountAgain() {
        fail(4);
        circuits.answered(ENDPOINT);
        fail(4);
        assertThat(circuits.refuse(ENDPOINT)).as("4 in a row since the answer").isNull();

        fail(1);
        assertThat(circuits.refuse(ENDPOINT)).isEqualTo(Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(10));
        assertThat(circuits.refuse(ENDPOINT)).isEqualTo(Duration.ofSeconds(20));
        assertThat(circuits.refuse("generic https://other.example.test/token")).as("other endpoints are not affected").isNull();
    }

    @Test
    void afterTheCoolDownOneTrialGoesThroughItsFailureOpensAgainItsAnswerCloses() {
        fail(5);
        clock.advance(Duration.ofSeconds(30));

        assertThat(circuits.refuse(ENDPOINT)).as("the trial").isNull();
        assertThat(circuits.refuse(ENDPOINT)).as("no second call while the trial runs").isEqualTo(Duration.ofSeconds(1));
        circuits.failed(ENDPOINT);
        assertThat(circuits.refuse(ENDPOINT)).as("one failed trial opens it again").isEqualTo(Duration.ofSeconds(30));

        clock.advance(Duration.ofSeconds(30));
        assertThat(circuits.refuse(ENDPOINT)).isNull();
        circuits.answered(ENDPOINT);
        assertThat(circuits.refuse(ENDPOINT)).isNull();
        assertThat(circuits.refuse(ENDPOINT)).as("closed: every call goes").isNull();
        fail(4);
        assertThat(circuits.refuse(ENDPOINT)).as("the count started again").isNull();
    }

    @Test
    void anAbandonedTrialLetsTheNextTrialGo() {
        fail(5);
        clock.advance(Duration.ofSeconds(30));
        assertThat(circuits.refuse(ENDPOINT)).isNull();

        circuits.abandoned(ENDPOINT);

        assertThat(circuits.refuse(ENDPOINT)).isNull();
        assertThat(circuits.refuse(ENDPOINT)).isEqualTo(Duration.ofSeconds(1));
    }
}
