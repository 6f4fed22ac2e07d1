package dev.postern.broker.accounts;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.postern.broker.accounts.AccountRepository.StoredAccount;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one account cache: how long metadata is trusted, and what it serves while the store is down. */
class AccountCacheTests {

    static final Instant START = Instant.parse("2026-12-05T12:00:00Z");

    private final MutableClock clock = new MutableClock(START);

    private final AccountCache cache = new AccountCache(clock);

    private final StoreUnavailableException outage = new StoreUnavailableException("Vault is sealed");

    private static StoredAccount stored(String id, long version) {
        Account account = new Account(id, "app_a", ProviderKind.GENERIC, id + "@example.test", Account.Status.ACTIVE, "mail",
                START, START, START, null, null);
        return new StoredAccount(account, null, null, null, version);
    }

    @Test
    void metadataIsFreshForThirtySecondsButTheEntryStaysTheBaseOfTheNextWrite() {
        cache.put(stored("acc_a", 3));

        clock.advance(AccountCache.FRESH.minusSeconds(1));
        assertThat(cache.fresh("acc_a")).isPresent();
        clock.advance(Duration.ofSeconds(1));
        assertThat(cache.fresh("acc_a")).isEmpty();
        assertThat(cache.any("acc_a")).map(StoredAccount::version).contains(3L);
    }

    @Test
    void duringAnOutageTheLastReadServesForAtMostFifteenMinutesFromTheRead() {
        cache.put(stored("acc_a", 3));

        clock.advance(Duration.ofMinutes(10));
        assertThat(cache.duringOutage("acc_a", outage).version()).isEqualTo(3);
        assertThat(cache.fresh("acc_a")).as("trusted again for one period").isPresent();
        clock.advance(Duration.ofMinutes(4));
        assertThat(cache.duringOutage("acc_a", outage).version()).isEqualTo(3);
        clock.advance(Duration.ofMinutes(1));
        assertThatThrownBy(() -> cache.duringOutage("acc_a", outage)).as("15 min after the read, not after the last outage answer")
            .isSameAs(outage);
        assertThatThrownBy(() -> cache.duringOutage("acc_never_read", outage)).isSameAs(outage);
    }

    @Test
    void aConnectOrRevokeDropsTheEntryARefreshKeepsIt() {
        cache.put(stored("acc_a", 3));
        cache.onAccountChanged(new AccountChangedEvent(stored("acc_a", 4).account(), AccountChangedEvent.Change.REFRESHED));
        assertThat(cache.any("acc_a")).isPresent();

        cache.onAccountChanged(new AccountChangedEvent(stored("acc_a", 4).account(), AccountChangedEvent.Change.REVOKED));
        assertThat(cache.any("acc_a")).isEmpty();
    }
}
