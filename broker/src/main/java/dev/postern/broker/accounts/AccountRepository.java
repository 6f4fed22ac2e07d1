package dev.postern.broker.accounts;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Repository;

import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.store.DocumentMapping;
import dev.postern.broker.store.Lease;
import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.store.StoredDocument;

/**
 * Keeps each mailbox in one store document {@code accounts/{id}}: metadata as data; the mailbox
 * state (refresh token or msal4j cache) and the latest access token as secret fields. Every
 * write names the version it read, so a rotated refresh token is never overwritten by a stale one.
 */
@Repository
public class AccountRepository {

    static final String STATE = "mailbox_state";

    static final String STATE_KIND = "mailbox_state_kind";

    static final String ACCESS_TOKEN = "access_token";

    private final KeyDirectory store;

    private final AccountIndex index;

    /** The read of every account under way, which a second caller joins rather than reading them all again. */
    private final AtomicReference<CompletableFuture<List<Account>>> readingAll = new AtomicReference<>();

    public AccountRepository(KeyDirectory store, AccountIndex index) {
        this.store = store;
        this.index = index;
    }

    /**
     * The latest access token a replica stored, so another replica can use it instead of
     * refreshing again.
     *
     * @param packed the token, as held in memory (see {@link PackedToken})
     * @param expiresAt when it expires
     * @param scope its scopes
     */
    public record StoredAccessToken(PackedToken packed, Instant expiresAt, String scope) {

        public StoredAccessToken(String value, Instant expiresAt, String scope) {
            this(PackedToken.of(value), expiresAt, scope);
        }

        /** The token's text. */
        public String value() {
            return packed.value();
        }

        @Override
        public String toString() {
            return "StoredAccessToken[expiresAt=" + expiresAt + ", value=(redacted)]";
        }
    }

    /**
     * A mailbox as read, with its secrets and the version a write must name.
     *
     * @param account the metadata
     * @param state what refreshes it, or {@code null} once revoked
     * @param accessToken the latest access token, or {@code null}
     * @param refreshLease the replica refreshing the mailbox now, or {@code null}
     * @param version the store version
     */
    public record StoredAccount(Account account, @Nullable MailboxState state, @Nullable StoredAccessToken accessToken,
            @Nullable Lease refreshLease, long version) {

        @Override
        public String toString() {
            return "StoredAccount[" + account.id() + ", version=" + version + ", secrets=(redacted)]";
        }
    }

    public Optional<StoredAccount> find(String accountId) {
        if (!SecretPath.isValidId(accountId)) {
            return Optional.empty();
        }
        return store.read(path(accountId)).map(this::toStored);
    }

    /**
     * A page of accounts in id order after the id {@code after}: {@code limit} reads, the keys from the key directory,
     * more when {@code filter} skips accounts (see {@link StorePage}).
     */
    public StorePage<Account> page(@Nullable String after, int limit, Predicate<Account> filter) {
        return StorePage.read(store, SecretPath.of(StoreCollection.ACCOUNTS), after, limit,
                stored -> Optional.of(toStored(stored).account()), filter);
    }

    /**
     * A page of the accounts named by {@code ids} (in id order, from {@link AccountIndex#matching}):
     * only those are read; {@code filter} is checked again on what is read.
     */
    StorePage<Account> page(Iterator<String> ids, int limit, Predicate<Account> filter) {
        return StorePage.read(store, SecretPath.of(StoreCollection.ACCOUNTS), ids, limit,
                stored -> Optional.of(toStored(stored).account()), filter);
    }

    /** The accounts {@code ids}, read in one batch (each one fed to the account index); gone ones left out. */
    List<Account> findAll(List<String> ids) {
        List<Account> found = new ArrayList<>();
        for (Optional<StoredDocument> stored : store.readAll(ids.stream().map(AccountRepository::path).toList())) {
            stored.ifPresent(document -> found.add(toStored(document).account()));
        }
        return found;
    }

    /**
     * Every account: a LIST and one read per account, for background work only (scans, the index
     * check). Callers that ask while a read of every account is under way share its answer: the
     * expiry scan and the account index's load at start-up read the collection once, not twice.
     * When it completes, the account index holds every account.
     */
    public List<Account> findAll() {
        CompletableFuture<List<Account>> mine = new CompletableFuture<>();
        CompletableFuture<List<Account>> running = readingAll.compareAndExchange(null, mine);
        if (running != null) {
            try {
                return running.join();
            }
            catch (CompletionException ex) {
                throw ex.getCause() instanceof RuntimeException runtime ? runtime : ex;
            }
        }
        try {
            List<Account> all = List.copyOf(StorePage.readAll(store, SecretPath.of(StoreCollection.ACCOUNTS),
                    stored -> Optional.of(toStored(stored).account())));
            index.markComplete();
            mine.complete(all);
            return all;
        }
        catch (RuntimeException ex) {
            mine.completeExceptionally(ex);
            throw ex;
        }
        finally {
            readingAll.set(null);
        }
    }

    /**
     * Writes the account over {@code expectedVersion} ({@link SecretStore#NEW} to create) without a
     * refresh lease; returns the new version.
     */
    public long save(Account account, @Nullable MailboxState state, @Nullable StoredAccessToken accessToken,
            long expectedVersion) {
        return write(account, state, accessToken, null, expectedVersion);
    }

    /**
     * Writes {@code stored} again with {@code lease} as its refresh lease, over its version: one CAS
     * write that takes the lease and gives the version the refresh's save names.
     *
     * @throws dev.postern.broker.store.VersionConflictException when someone wrote the account since
     */
    public StoredAccount saveLease(StoredAccount stored, @Nullable Lease lease) {
        long version = write(stored.account(), stored.state(), stored.accessToken(), lease, stored.version());
        return new StoredAccount(stored.account(), stored.state(), stored.accessToken(), lease, version);
    }

    private long write(Account account, @Nullable MailboxState state, @Nullable StoredAccessToken accessToken,
            @Nullable Lease lease, long expectedVersion) {
        Map<String, Object> data = DocumentMapping.toData(account);
        Map<String, String> secrets = new HashMap<>();
        if (state != null) {
            secrets.put(STATE, state.value());
            data.put(STATE_KIND, state.kind().name());
        }
        if (accessToken != null) {
            secrets.put(ACCESS_TOKEN, accessToken.value());
            data.put("access_token_expires_at", accessToken.expiresAt().toString());
            data.put("access_token_scope", accessToken.scope());
        }
        long version = store.write(path(account.id()), new SecretDocument(Lease.addTo(data, lease), secrets),
                expectedVersion);
        index.seen(account, version);
        return version;
    }

    private StoredAccount toStored(StoredDocument stored) {
        Map<String, Object> data = new HashMap<>(stored.document().data());
        Object kind = data.remove(STATE_KIND);
        Object tokenExpiry = data.remove("access_token_expires_at");
        Object tokenScope = data.remove("access_token_scope");
        Lease lease = Lease.takeFrom(data).orElse(null);
        Account account = canonical(DocumentMapping.fromData(data, Account.class));
        index.seen(account, stored.version());
        String state = stored.document().secret(STATE);
        String token = stored.document().secret(ACCESS_TOKEN);
        return new StoredAccount(account,
                state == null || kind == null ? null : new MailboxState(MailboxState.Kind.valueOf(kind.toString()), state),
                token == null || tokenExpiry == null ? null
                        : new StoredAccessToken(token, Instant.parse(tokenExpiry.toString()), String.valueOf(tokenScope).intern()),
                lease, stored.version());
    }

    /**
     * {@code account} with one shared instance of each value that repeats across accounts (app id,
     * scope, issuer, tenant; its created and connected times when equal): a cached account would
     * otherwise hold its own copy of each, about 300 bytes per mailbox (docs/performance.md, "What a
     * cached token holds").
     */
    private static Account canonical(Account account) {
        ProviderIdentity identity = account.identity();
        ProviderIdentity shared = identity == null ? null
                : new ProviderIdentity(intern(identity.issuer()), intern(identity.tenantId()), identity.subject());
        // A mailbox connected once was connected when it was created: one Instant for both.
        Instant connectedAt = account.connectedAt().equals(account.createdAt()) ? account.createdAt() : account.connectedAt();
        return new Account(account.id(), account.appId().intern(), account.provider(), account.mailbox(), account.status(),
                account.scope().intern(), account.createdAt(), connectedAt, account.lastRefreshAt(),
                account.lastError(), shared);
    }

    private static @Nullable String intern(@Nullable String value) {
        return value == null ? null : value.intern();
    }

    private static SecretPath path(String accountId) {
        return SecretPath.of(StoreCollection.ACCOUNTS, accountId);
    }
}
