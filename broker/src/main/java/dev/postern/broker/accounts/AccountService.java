package dev.postern.broker.accounts;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.store.VersionConflictException;

/** Connected mailboxes: connected or reconnected from the connect flow, listed, revoked. */
@Service
public class AccountService {

    private final AccountRepository accounts;

    private final AuditLog audit;

    private final Clock clock;

    private final ApplicationEventPublisher events;

    private final MailboxIndex index;

    /**
     * Accounts by mailbox address, read through the mailbox index; kept 30 s, so another
     * replica's connect or revoke shows here within that time.
     */
    private final Cache<String, List<Account>> byMailbox = Caffeine.newBuilder()
        .expireAfterWrite(Duration.ofSeconds(30))
        .maximumSize(100_000)
        .build();

    public AccountService(AccountRepository accounts, MailboxIndex index, AuditLog audit, Clock clock,
            ApplicationEventPublisher events) {
        this.accounts = accounts;
        this.index = index;
        this.audit = audit;
        this.clock = clock;
        this.events = events;
    }

    /**
     * A page of accounts in id order after the account {@code after} ({@code null}: the first page),
     * filtered by app, status and mailbox prefix (each {@code null} for any).
     */
    public StorePage<Account> page(@Nullable String after, int limit, @Nullable String appId,
            Account.@Nullable Status status, @Nullable String mailboxPrefix) {
        String prefix = mailboxPrefix == null ? null : mailboxPrefix.strip().toLowerCase(Locale.ROOT);
        return accounts.page(after, limit, account -> (appId == null || account.appId().equals(appId))
                && (status == null || account.status() == status)
                && (prefix == null || account.mailbox().startsWith(prefix)));
    }

    /** Every account, in id order: a read per account, for background scans only, never a request. */
    public List<Account> all() {
        return accounts.findAll();
    }

    public Account get(String accountId) {
        return accounts.find(accountId).orElseThrow(() -> ApiException.notFound("Account " + accountId)).account();
    }

    /** The usable mailbox {@code mailbox} among those {@code allowed} accepts, newest connection first. */
    public Optional<Account> findByMailbox(String mailbox, java.util.function.Predicate<Account> allowed) {
        String wanted = mailbox.strip().toLowerCase(Locale.ROOT);
        return byMailbox.get(wanted, this::readByMailbox)
            .stream()
            .filter(account -> account.status() != Account.Status.REVOKED)
            .filter(allowed)
            .max(Comparator.comparing(Account::connectedAt));
    }

    /** Forgets what this replica cached for {@code address}, after the index check added its entry. */
    void forgetMailbox(String address) {
        byMailbox.invalidate(address);
    }

    /** The accounts of {@code address} through the index: one index read and one read per account of the address. */
    private List<Account> readByMailbox(String address) {
        return index.find(address)
            .accounts()
            .keySet()
            .stream()
            .sorted()
            .map(accounts::find)
            .flatMap(Optional::stream)
            .map(AccountRepository.StoredAccount::account)
            .filter(account -> account.mailbox().equals(address))
            .toList();
    }

    /**
     * Stores the tokens of a mailbox that just connected through {@code appId}, signed in as
     * {@code grant.identity()}: the account of the same app and mailbox is updated, else one is
     * created. An account is bound to the identity that first connected it; a reconnect by another
     * identity (issuer, tenant or subject) changes nothing and is refused, unless an admin revoked
     * the account first, which makes the next connect a deliberate rebind. An account connected
     * before identities were recorded is bound at its next connect.
     *
     * @throws IdentityMismatchException when the mailbox is bound to another identity
     */
    public Account connect(String actor, String appId, ProviderKind provider, String mailbox, TokenGrant grant) {
        ProviderIdentity identity = Objects.requireNonNull(grant.identity(), "a connect needs the signed-in identity");
        Instant now = clock.instant();
        String address = mailbox.toLowerCase(Locale.ROOT);
        for (int attempt = 0;; attempt++) {
            // The index names the account of this app and address, if any: no read of every account.
            Optional<String> indexed = index.find(address)
                .accounts()
                .entrySet()
                .stream()
                .filter(entry -> entry.getValue().equals(appId))
                .map(Map.Entry::getKey)
                .sorted()
                .findFirst();
            Optional<AccountRepository.StoredAccount> existing = indexed.flatMap(accounts::find);
            AccountRepository.StoredAccessToken accessToken = new AccountRepository.StoredAccessToken(grant.accessToken(),
                    grant.expiresAt(), grant.scope());
            try {
                Account account;
                if (existing.isPresent()) {
                    AccountRepository.StoredAccount stored = existing.get();
                    Account current = stored.account();
                    String action = bindingChange(actor, current, identity);
                    account = current.reconnected(now, grant.scope(), identity);
                    accounts.save(account, grant.mailboxState(), accessToken, stored.version());
                    audit.success(actor, action, "account", account.id(), identityDetails(appId, address, identity));
                }
                else {
                    // The entry first: a crash in between leaves an entry without account (whose id the
                    // next connect reuses), never an account no lookup finds. A concurrent first connect
                    // of this app and address gets the id claimed first, and one of the two creates fail.
                    String id = indexed.orElseGet(() -> index.claim(address, StoreIds.newId("acc"), appId));
                    account = new Account(id, appId, provider, address, Account.Status.ACTIVE, grant.scope(), now, now,
                            now, null, identity);
                    accounts.save(account, grant.mailboxState(), accessToken, SecretStore.NEW);
                    audit.success(actor, "account.connect", "account", account.id(), identityDetails(appId, address, identity));
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

    /**
     * The audit action of connecting {@code current} again as {@code identity}: {@code account.reconnect}
     * for the bound identity (or the first one recorded), {@code account.rebind} after a revoke.
     *
     * @throws IdentityMismatchException, audited as a denied reconnect, for another identity
     */
    private String bindingChange(String actor, Account current, ProviderIdentity identity) {
        ProviderIdentity bound = current.identity();
        if (current.status() == Account.Status.REVOKED) {
            return bound == null || bound.equals(identity) ? "account.reconnect" : "account.rebind";
        }
        if (bound == null || bound.equals(identity)) {
            return "account.reconnect";
        }
        Map<String, String> details = new LinkedHashMap<>(identityDetails(current.appId(), current.mailbox(), identity));
        details.put("reason", "identity_mismatch");
        details.put("bound_subject", bound.subject());
        audit.record(actor, "account.reconnect", "account", current.id(), "denied", details);
        throw new IdentityMismatchException("This mailbox is connected to another account: you signed in as someone "
                + "else than the person who connected it. Nothing was changed. If the mailbox really changed hands, "
                + "an administrator must delete (revoke) it in Postern first; then open a new connect link.");
    }

    private static Map<String, String> identityDetails(String appId, String address, ProviderIdentity identity) {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("app_id", appId);
        details.put("mailbox", address);
        details.put("subject", identity.subject());
        if (identity.issuer() != null) {
            details.put("issuer", identity.issuer());
        }
        if (identity.tenantId() != null) {
            details.put("tenant_id", identity.tenantId());
        }
        return details;
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
