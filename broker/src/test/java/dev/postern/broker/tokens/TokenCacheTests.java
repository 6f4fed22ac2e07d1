package dev.postern.broker.tokens;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The tokens in memory: what a request may be given, and which are due for a refresh ahead of expiry. */
class TokenCacheTests {

    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    private final TokenCache cache = new TokenCache();

    private static IssuedToken token(String accountId, Instant expiresAt) {
        return new IssuedToken(accountId, "access-" + accountId, expiresAt, "mail", accountId + "@example.test");
    }

    @Test
    void aTokenIsGivenOnlyWithTheLifetimeAskedFor() {
        cache.put(token("acc_a", NOW.plusSeconds(600)), NOW);

        assertThat(cache.use("acc_a", NOW, Duration.ofSeconds(300))).isNotNull();
        assertThat(cache.use("acc_a", NOW, Duration.ofSeconds(600))).as("exactly its lifetime left is not more").isNull();
        assertThat(cache.use("acc_b", NOW, Duration.ZERO)).isNull();
        cache.forget("acc_a");
        assertThat(cache.use("acc_a", NOW, Duration.ZERO)).isNull();
    }

    @Test
    void dueForRefreshAreTokensInUseWithinTheirWindowAThirdOfAShortLife() {
        Duration refreshAhead = Duration.ofMinutes(10);
        Duration inUse = Duration.ofMinutes(15);
        // An hour-long token used now, 5 minutes before expiry: within the 10-minute window.
        cache.put(token("acc_due", NOW.plus(Duration.ofMinutes(5))), NOW.minus(Duration.ofMinutes(55)));
        cache.use("acc_due", NOW, Duration.ZERO);
        // The same, but last used 20 minutes ago: not in use, left to expire.
        cache.put(token("acc_idle", NOW.plus(Duration.ofMinutes(5))), NOW.minus(Duration.ofMinutes(55)));
        cache.use("acc_idle", NOW.minus(Duration.ofMinutes(20)), Duration.ZERO);
        // A 6-minute token received now: its window is a third of its life (2 min), and 6 min are left.
        cache.put(token("acc_short", NOW.plus(Duration.ofMinutes(6))), NOW);

        assertThat(cache.dueForRefresh(NOW, refreshAhead, inUse))
            .containsExactly(new TokenCache.Due("acc_due", refreshAhead));
        assertThat(cache.dueForRefresh(NOW.plus(Duration.ofMinutes(4).plusSeconds(1)), refreshAhead, inUse))
            .contains(new TokenCache.Due("acc_short", Duration.ofMinutes(2)));
    }
}
