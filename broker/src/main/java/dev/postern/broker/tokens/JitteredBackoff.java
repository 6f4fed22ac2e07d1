package dev.postern.broker.tokens;

import java.time.Duration;

import org.springframework.util.Assert;

/**
 * The wait before the next provider call for a mailbox after consecutive failures that came
 * without {@code Retry-After}: exponential with "equal jitter". After the n-th failure in a row
 * the ceiling is {@code initial × 2^(n-1)}, at most {@code max}, and the wait is drawn uniformly
 * from [ceiling / 2, ceiling): never less than half the ceiling, so the spacing still grows, and
 * spread over the other half, so mailboxes that failed together do not call again together.
 *
 * @param initial the ceiling after the first failure ({@code postern.tokens.initial-backoff})
 * @param max the largest ceiling ({@code postern.tokens.max-backoff})
 */
record JitteredBackoff(Duration initial, Duration max) {

    JitteredBackoff {
        Assert.isTrue(initial.isPositive(), "postern.tokens.initial-backoff must be positive");
        Assert.isTrue(max.isPositive(), "postern.tokens.max-backoff must be positive");
    }

    /** The ceiling of the wait after the {@code failures}-th consecutive failure (1 for the first). */
    Duration ceiling(int failures) {
        Assert.isTrue(failures >= 1, "failures must be at least 1");
        Duration ceiling = initial;
        // Doubling stops at max, so any number of failures is safe from overflow.
        for (int failure = 1; failure < failures && ceiling.compareTo(max) < 0; failure++) {
            ceiling = ceiling.multipliedBy(2);
        }
        return ceiling.compareTo(max) < 0 ? ceiling : max;
    }

    /**
     * The wait after the {@code failures}-th consecutive failure; {@code random}, uniform in
     * [0, 1), picks where in [ceiling / 2, ceiling) it falls.
     */
    Duration after(int failures, double random) {
        Assert.isTrue(random >= 0 && random < 1, "random must be in [0, 1)");
        Duration half = ceiling(failures).dividedBy(2);
        return half.plus(Duration.ofNanos((long) (random * half.toNanos())));
    }
}
