package dev.postern.broker.accounts;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.VersionConflictException;

/** Connected mailboxes: connected or reconnected from the connect flow, listed, revoked. */
@Service
public class AccountService {

    private final AccountRepository accounts;

    private final AuditLog audit;

    private final Clock clock;

    private final ApplicationEventPublisher events;

    /** Accounts by mailbox address, so {@code POST /v1/token} does not read every account per request. */
    private final Cache<String, List<Account>> byMailbox = Caffeine.newBuilder()
        .expireAfterWrite(Duration.ofSeconds(30))
        .maximumSize(100_000)
        .build();

    public AccountService(AccountRepository accounts, AuditLog audit, Clock clock, ApplicationEventPublisher events) {
        this.accounts = accounts;
        this.audit = audit;
        this.clock = clock;
        this.events = events;
    }

    public List<Account> list() {
        return accounts.findAll().stream().sorted(Comparator.comparing(Account::mailbox)).toList();
    }

    public Account get(String accountId) {
        return accounts.find(accountId).orElseThrow(() -> ApiException.notFound("Account " + accountId)).account();
    }

    /** The usable mailbox {@code mailbox} among those {@code allowed} accepts, newest connection first. */
    public Optional<Account> findByMailbox(String mailbox, java.util.function.Predicate<Account> allowed) {
        String wanted = mailbox.strip().toLowerCase(Locale.ROOT);
        return byMailbox.get(wanted, address -> accounts.findAll().stream().filter(a -> a.mailbox().equals(address)).toList())
            .stream()
            .filter(account -> account.status() != Account.Status.REVOKED)
            .filter(allowed)
            .max(Comparator.comparing(Account::connectedAt));
    }

    /**
     * Stores the tokens of a mailbox that just connected through {@code appId}: the account of the
     * same app and mailbox is updated, else one is created.
     */
    public Account connect(String actor, String appId, ProviderKind provider, String mailbox, TokenGrant grant) {
        Instant now = clock.instant();
        String address = mailbox.toLowerCase(Locale.ROOT);
        for (int attempt = 0;; attempt++) {
            Optional<Account> existing = accounts.findAll()
                .stream()
                .filter(a -> a.appId().equals(appId) && a.mailbox().equals(address))
                .findFirst();
            AccountRepository.StoredAccessToken accessToken = new AccountRepository.StoredAccessToken(grant.accessToken(),
                    grant.expiresAt(), grant.scope());
            try {
                Account account;
                if (existing.isPresent()) {
                    AccountRepository.StoredAccount stored = accounts.find(existing.get().id()).orElseThrow();
                    account = stored.account().reconnected(now, grant.scope());
                    accounts.save(account, grant.mailboxState(), accessToken, stored.version());
                    audit.success(actor, "account.reconnect", "account", account.id(), Map.of("app_id", appId, "mailbox", address));
                }
                else {
                    account = new Account(StoreIds.newId("acc"), appId, provider, address, Account.Status.ACTIVE,
                            grant.scope(), now, now, now, null);
                    accounts.save(account, grant.mailboxState(), accessToken, SecretStore.NEW);
                    audit.success(actor, "account.connect", "account", account.id(), Map.of("app_id", appId, "mailbox", address));
                }
                byMailbox.invalidate(address);
                events.publishEvent(new AccountChangedEvent(account));
                return account;
            }
            catch (VersionConflictException ex) {
                if (attempt >= 3) {
                    throw ex;
                }
            }
        }
    }

    /** Revokes a mailbox locally: its refresh token and access token are forgotten. */
    public Account revoke(String actor, String accountId) {
        for (int attempt = 0;; attempt++) {
            AccountRepository.StoredAccount stored = accounts.find(accountId)
                .orElseThrow(() -> ApiException.notFound("Account " + accountId));
            Account revoked = stored.account().withStatus(Account.Status.REVOKED, null);
            try {
                accounts.save(revoked, null, null, stored.version());
            }
            catch (VersionConflictException ex) {
                if (attempt >= 3) {
                    throw ex;
                }
                continue;
            }
            audit.success(actor, "account.revoke", "account", accountId, Map.of("mailbox", revoked.mailbox()));
            byMailbox.invalidate(revoked.mailbox());
            events.publishEvent(new AccountChangedEvent(revoked));
            return revoked;
        }
    }
}
