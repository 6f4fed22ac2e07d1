package dev.postern.broker.tokens;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The per-mailbox wait after a failed provider call. */
class RefreshBackoffsTests {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-05T12:00:00Z"));

    private final RefreshBackoffs backoffs = new RefreshBackoffs(new TokenProperties(Duration.ofMinutes(5),
            Duration.ofMinutes(10), Duration.ofMinutes(15), Duration.ofSeconds(20), Duration.ofSeconds(1),
            Duration.ofSeconds(60), Duration.ofDays(30), 5, Duration.ofSeconds(30), Duration.ofHours(1), 4), clock);

    private static ProviderException busy(Duration retryAfter) {
        return new ProviderException(ProviderException.Kind.RETRY_LATER, "temporarily_unavailable", "busy", retryAfter);
    }

    @Test
    void retryAfterIsKeptAndAnsweredAs503WithTheSecondsLeft() {
        assertThat(backoffs.failed("acc_a", busy(Duration.ofSeconds(30)))).isEqualTo(Duration.ofSeconds(30));

        clock.advance(Duration.ofSeconds(10));
        ApiException waiting = catchThrowableOfType(ApiException.class, () -> backoffs.requireNone("acc_a"));
        assertThat(waiting.type()).isEqualTo(ProblemTypes.PROVIDER_UNAVAILABLE);
        assertThat(waiting.headers()).containsEntry("Retry-After", "20");
        backoffs.requireNone("acc_b"); // other mailboxes do not wait

        clock.advance(Duration.ofSeconds(20));
        backoffs.requireNone("acc_a");
    }

    @Test
    void withoutRetryAfterTheWaitGrowsWithFailuresInARowAndAClearEndsIt() {
        Duration first = backoffs.failed("acc_a", busy(null));
        Duration second = backoffs.failed("acc_a", busy(null));
        Duration third = backoffs.failed("acc_a", busy(null));

        // Ceilings 1, 2 and 4 s, each wait drawn between half the ceiling and all of it.
        assertThat(first).isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
        assertThat(second).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
        assertThat(third).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(4));
        assertThatThrownBy(() -> backoffs.requireNone("acc_a")).isInstanceOf(ApiException.class);
        backoffs.clear("acc_a");
        backoffs.requireNone("acc_a");
    }
}
