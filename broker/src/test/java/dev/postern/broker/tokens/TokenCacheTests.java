package dev.postern.broker.tokens;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountRepository.StoredAccessToken;
import dev.postern.broker.providers.ProviderKind;

import static org.assertj.core.api.Assertions.assertThat;

/** The tokens in memory: what a request may be given, and which are due for a refresh ahead of expiry. */
class TokenCacheTests {

    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    private final TokenCache cache = new TokenCache();

    private static Account account(String accountId) {
        return new Account(accountId, "app_a", ProviderKind.GENERIC, accountId + "@example.test", Account.Status.ACTIVE, "mail",
                NOW, NOW, null, null, null);
    }

    private static StoredAccessToken token(String accountId, Instant expiresAt) {
        return new StoredAccessToken("access-" + accountId, expiresAt, "mail");
    }

    @Test
    void aTokenComesBackAsItWasStoredForItsMailbox() {
        String jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vQGV4YW1wbGUudGVzdCJ9.c2lnbmF0dXJlLWJ5dGVz";
        IssuedToken put = cache.put(account("acc_a"), new StoredAccessToken(jwt, NOW.plusSeconds(600), "mail"), NOW);

        IssuedToken used = cache.use("acc_a", NOW, Duration.ZERO);
        assertThat(used).isEqualTo(put);
        assertThat(used.accessToken()).isEqualTo(jwt);
        assertThat(used.username()).isEqualTo("acc_a@example.test");
        assertThat(used.expiresAt()).isEqualTo(NOW.plusSeconds(600));
    }

    @Test
    void aTokenIsGivenOnlyWithTheLifetimeAskedFor() {
        cache.put(account("acc_a"), token("acc_a", NOW.plusSeconds(600)), NOW);

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
        cache.put(account("acc_due"), token("acc_due", NOW.plus(Duration.ofMinutes(5))), NOW.minus(Duration.ofMinutes(55)));
        cache.use("acc_due", NOW, Duration.ZERO);
        // The same, but last used 20 minutes ago: not in use, left to expire.
        cache.put(account("acc_idle"), token("acc_idle", NOW.plus(Duration.ofMinutes(5))), NOW.minus(Duration.ofMinutes(55)));
        cache.use("acc_idle", NOW.minus(Duration.ofMinutes(20)), Duration.ZERO);
        // A 6-minute token received now: its window is a third of its life (2 min), and 6 min are left.
        cache.put(account("acc_short"), token("acc_short", NOW.plus(Duration.ofMinutes(6))), NOW);

        assertThat(cache.dueForRefresh(NOW, refreshAhead, inUse))
            .containsExactly(new TokenCache.Due("acc_due", refreshAhead));
        assertThat(cache.dueForRefresh(NOW.plus(Duration.ofMinutes(4).plusSeconds(1)), refreshAhead, inUse))
            .contains(new TokenCache.Due("acc_short", Duration.ofMinutes(2)));
    }
}
