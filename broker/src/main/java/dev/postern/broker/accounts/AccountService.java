package dev.postern.broker.accounts;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.accounts.AccountRepository.StoredAccessToken;
import dev.postern.broker.accounts.AccountRepository.StoredAccount;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.Lease;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreUnavailableException;
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

    private final AccountCache cache;

    private final AccountIndex accountIndex;

    /** Reads started ahead of the mailbox index's answer, each on a virtual thread of its own. */
    private static final Executor READ_AHEAD = task -> Thread.ofVirtual().name("account-read-ahead").start(task);

    /**
     * The account ids of each mailbox address, as the mailbox index gave them; kept as long as the
     * accounts' metadata, so another replica's connect shows here within that time.
     */
    private final Cache<String, List<String>> idsByMailbox = Caffeine.newBuilder()
        .expireAfterWrite(AccountCache.FRESH)
        .maximumSize(100_000)
        .build();

    public AccountService(AccountRepository accounts, MailboxIndex index, AccountCache cache, AccountIndex accountIndex,
            AuditLog audit, Clock clock, ApplicationEventPublisher events) {
        this.accounts = accounts;
        this.accountIndex = accountIndex;
        this.index = index;
        this.cache = cache;
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
        Predicate<Account> filter = account -> (appId == null || account.appId().equals(appId))
                && (status == null || account.status() == status)
                && (prefix == null || account.mailbox().startsWith(prefix));
        if ((appId != null || status != null || prefix != null) && accountIndex.complete()) {
            // Only the accounts the in-memory index says match are read; the filter is checked again on them.
            return accounts.page(accountIndex.matching(after, appId, status, prefix), limit, filter);
        }
        // Unfiltered (every account read is an item), or the index is still loading: read in id order.
        return accounts.page(after, limit, filter);
    }

    /** Every account, in id order: a read per account, for background scans only, never a request. */
    public List<Account> all() {
        return accounts.findAll();
    }

    /** The account as the store has it now (an admin's view). */
    public Account get(String accountId) {
        return read(accountId).account();
    }

    /**
     * The account {@code accountId} for a request on the token path: from the cache when read
     * within {@link AccountCache#FRESH}, while the store is unavailable also an older read.
     */
    public Account current(String accountId) {
        Optional<StoredAccount> cached = cache.fresh(accountId);
        if (cached.isPresent()) {
            return cached.get().account();
        }
        try {
            return read(accountId).account();
        }
        catch (StoreUnavailableException ex) {
            return cache.duringOutage(accountId, ex).account();
        }
    }

    /**
     * The account with its secrets and version as this replica last read or wrote it, whatever
     * its age: the base of a refresh's lease write, which fails when someone wrote the account since.
     */
    public Optional<StoredAccount> lastKnown(String accountId) {
        return cache.any(accountId);
    }

    /** The account as the store has it now, with its secrets and version. */
    public StoredAccount read(String accountId) {
        Optional<StoredAccount> stored = accounts.find(accountId);
        if (stored.isEmpty()) {
            cache.forget(accountId);
            throw ApiException.notFound("Account " + accountId);
        }
        cache.put(stored.get());
        return stored.get();
    }

    /**
     * Takes the refresh lease of {@code stored} for {@code owner} until {@code until}: one CAS write
     * on its version, whose new version the refresh's save names.
     *
     * @throws VersionConflictException when someone wrote the account since {@code stored} was read
     */
    public StoredAccount takeRefreshLease(StoredAccount stored, String owner, Instant until) {
        return written(() -> accounts.saveLease(stored, new Lease(owner, until)), stored.account().id());
    }

    /** Gives the refresh lease of {@code leased} back after a refresh that stored nothing; best effort. */
    public void releaseRefreshLease(StoredAccount leased) {
        written(() -> accounts.saveLease(leased, null), leased.account().id());
    }

    /**
     * Stores a refresh's outcome over the version its lease write gave, which also clears the lease.
     *
     * @throws VersionConflictException when someone wrote the account since the lease was taken
     */
    public StoredAccount saveRefreshed(StoredAccount leased, Account refreshed, MailboxState state,
            StoredAccessToken accessToken) {
        StoredAccount saved = written(() -> {
            long version = accounts.save(refreshed, state, accessToken, leased.version());
            return new StoredAccount(refreshed, state, accessToken, null, version);
        }, refreshed.id());
        events.publishEvent(new AccountChangedEvent(refreshed, AccountChangedEvent.Change.REFRESHED));
        return saved;
    }

    /** Applies {@code change} to the account's status or last error (read, change, CAS write, again on conflict). */
    public void changeStatus(String accountId, UnaryOperator<Account> change) {
        changeStatus(accountId, stored -> true, change);
    }

    /**
     * {@link #changeStatus(String, UnaryOperator)} while the account still holds {@code state}: the
     * refusal of a refresh token that someone has replaced since (the owner connected the mailbox
     * again) says nothing about the account.
     *
     * @return whether the change was written; false when the account holds another state or is gone
     */
    public boolean changeStatusIfState(String accountId, @Nullable MailboxState state, UnaryOperator<Account> change) {
        return changeStatus(accountId, stored -> Objects.equals(stored.state(), state), change);
    }

    private boolean changeStatus(String accountId, Predicate<StoredAccount> applies,
            UnaryOperator<Account> change) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Optional<StoredAccount> stored = accounts.find(accountId);
            if (stored.isEmpty() || !applies.test(stored.get())) {
                return false;
            }
            Account changed = change.apply(stored.get().account());
            try {
                written(() -> {
                    long version = accounts.save(changed, stored.get().state(), stored.get().accessToken(),
                            stored.get().version());
                    return new StoredAccount(changed, stored.get().state(), stored.get().accessToken(), null, version);
                }, accountId);
                events.publishEvent(new AccountChangedEvent(changed, AccountChangedEvent.Change.STATUS));
                return true;
            }
            catch (VersionConflictException ex) {
                // read again and apply the change to what is there now
            }
        }
        return false;
    }

    /** Runs a write of the account {@code accountId} and keeps what it wrote; after a conflict, nothing. */
    private StoredAccount written(Supplier<StoredAccount> write, String accountId) {
        try {
            StoredAccount stored = write.get();
            cache.put(stored);
            return stored;
        }
        catch (VersionConflictException ex) {
            cache.forget(accountId);
            throw ex;
        }
    }

    /** The usable mailbox {@code mailbox} among those {@code allowed} accepts, newest connection first. */
    public Optional<Account> findByMailbox(String mailbox, java.util.function.Predicate<Account> allowed) {
        String wanted = mailbox.strip().toLowerCase(Locale.ROOT);
        List<String> ids = idsByMailbox.getIfPresent(wanted);
        Map<String, CompletableFuture<Optional<Account>>> readAhead = Map.of();
        if (ids == null) {
            // The accounts this replica already knows for the address are read while the mailbox index
            // is, not after it: a first ask costs one round trip, not two. The index still decides.
            readAhead = new LinkedHashMap<>();
            for (String known : accountIndex.idsOf(wanted)) {
                readAhead.put(known, CompletableFuture.supplyAsync(() -> currentIfPresent(known), READ_AHEAD));
            }
            ids = idsByMailbox.get(wanted, this::readIdsByMailbox);
        }
        List<Optional<Account>> found = new ArrayList<>(ids.size());
        for (String id : ids) {
            CompletableFuture<Optional<Account>> early = readAhead.get(id);
            found.add(early == null ? currentIfPresent(id) : joined(early));
        }
        return found.stream()
            .flatMap(Optional::stream)
            .filter(account -> account.mailbox().equals(wanted))
            .filter(account -> account.status() != Account.Status.REVOKED)
            .filter(allowed)
            .max(Comparator.comparing(Account::connectedAt));
    }

    /** Forgets what this replica cached for {@code address}, after the index check added its entry. */
    void forgetMailbox(String address) {
        idsByMailbox.invalidate(address);
    }

    /** The account ids the mailbox index names for {@code address}: one index read. */
    private List<String> readIdsByMailbox(String address) {
        return index.find(address).accounts().keySet().stream().sorted().toList();
    }

    /** The result of a read started ahead, with the exception it failed with as is. */
    private static Optional<Account> joined(CompletableFuture<Optional<Account>> read) {
        try {
            return read.join();
        }
        catch (CompletionException ex) {
            if (ex.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw ex;
        }
    }

    /** {@link #current}, empty for an index entry whose account is not (or no longer) there. */
    private Optional<Account> currentIfPresent(String accountId) {
        try {
            return Optional.of(current(accountId));
        }
        catch (ApiException notFound) {
            return Optional.empty();
        }
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
            Optional<StoredAccount> existing = indexed.flatMap(accounts::find);
            StoredAccessToken accessToken = new StoredAccessToken(grant.accessToken(),
                    grant.expiresAt(), grant.scope());
            try {
                Account account;
                if (existing.isPresent()) {
                    StoredAccount stored = existing.get();
                    Account current = stored.account();
                    String action = bindingChange(actor, current, identity);
                    account = current.reconnected(now, grant.scope(), identity);
                    saveConnected(account, grant.mailboxState(), accessToken, stored.version());
                    audit.success(actor, action, "account", account.id(), identityDetails(appId, address, identity));
                }
                else {
                    // The entry first: a crash in between leaves an entry without account (whose id the
                    // next connect reuses), never an account no lookup finds. A concurrent first connect
                    // of this app and address gets the id claimed first, and one of the two creates fail.
                    String id = indexed.orElseGet(() -> index.claim(address, StoreIds.newId("acc"), appId));
                    account = new Account(id, appId, provider, address, Account.Status.ACTIVE, grant.scope(), now, now,
                            now, null, identity);
                    saveConnected(account, grant.mailboxState(), accessToken, SecretStore.NEW);
                    audit.success(actor, AuditActions.ACCOUNT_CONNECT, "account", account.id(), identityDetails(appId, address, identity));
                }
                idsByMailbox.invalidate(address);
                events.publishEvent(new AccountChangedEvent(account, AccountChangedEvent.Change.CONNECTED));
                return account;
            }
            catch (VersionConflictException ex) {
                if (attempt >= 3) {
                    throw ex;
                }
            }
        }
    }

    private void saveConnected(Account account, MailboxState state, StoredAccessToken accessToken, long expectedVersion) {
        written(() -> new StoredAccount(account, state, accessToken, null,
                accounts.save(account, state, accessToken, expectedVersion)), account.id());
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
            return bound == null || bound.equals(identity) ? AuditActions.ACCOUNT_RECONNECT : AuditActions.ACCOUNT_REBIND;
        }
        if (bound == null || bound.equals(identity)) {
            return AuditActions.ACCOUNT_RECONNECT;
        }
        Map<String, String> details = new LinkedHashMap<>(identityDetails(current.appId(), current.mailbox(), identity));
        details.put("reason", "identity_mismatch");
        details.put("bound_subject", bound.subject());
        audit.record(actor, AuditActions.ACCOUNT_RECONNECT, "account", current.id(), "denied", details);
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
            StoredAccount stored = read(accountId);
            Account revoked = stored.account().withStatus(Account.Status.REVOKED, null);
            try {
                written(() -> new StoredAccount(revoked, null, null, null, accounts.save(revoked, null, null, stored.version())),
                        accountId);
            }
            catch (VersionConflictException ex) {
                if (attempt >= 3) {
                    throw ex;
                }
                continue;
            }
            audit.success(actor, AuditActions.ACCOUNT_REVOKE, "account", accountId, Map.of("mailbox", revoked.mailbox()));
            idsByMailbox.invalidate(revoked.mailbox());
            events.publishEvent(new AccountChangedEvent(revoked, AccountChangedEvent.Change.REVOKED));
            return revoked;
        }
    }
}
