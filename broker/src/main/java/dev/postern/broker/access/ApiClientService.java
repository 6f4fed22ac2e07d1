package dev.postern.broker.access;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.Role;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.store.StoreUnavailableException;

/**
 * API clients: created with a key shown once, listed, revoked, and recognised by their key.
 * Recognised keys are cached for {@code postern.access.key-cache-ttl} so a token request does not
 * read the store; a revocation takes effect at once on this replica (the mail proxy's sessions
 * it logged in included) and within that time on the others.
 */
@Service
public class ApiClientService {

    private final ApiClientRepository clients;

    private final AuditLog audit;

    private final Clock clock;

    private final Cache<String, ApiClient> recognised;

    /**
     * Keys recognised within {@link #STALE_IF_STORE_DOWN}, used only while the store cannot be
     * read: a Vault outage must not turn away clients whose tokens are in memory. Nobody can
     * revoke a key while the store is down, so this serves no key revoked since.
     */
    private final Cache<String, ApiClient> lastRecognised;

    /** How old a recognition may be and still admit a key while the store is unavailable. */
    static final java.time.Duration STALE_IF_STORE_DOWN = java.time.Duration.ofMinutes(15);

    /**
     * Hashes of the keys that authenticated on this replica within a day: an address over its
     * failure limit still gets these checked ({@link FailedAuthentications}). Only the hash is kept.
     */
    private final Cache<String, Boolean> authenticatedWithinADay = Caffeine.newBuilder()
        .expireAfterWrite(java.time.Duration.ofDays(1))
        .maximumSize(100_000)
        .build();

    // Admin sessions name their client by id, not by key: the same TTL and the same revocation rule.
    private final Cache<String, ApiClient> byId;

    private final ApplicationEventPublisher events;

    public ApiClientService(ApiClientRepository clients, AuditLog audit, Clock clock, AccessProperties properties,
            ApplicationEventPublisher events) {
        this.clients = clients;
        this.events = events;
        this.audit = audit;
        this.clock = clock;
        this.recognised = Caffeine.newBuilder().expireAfterWrite(properties.keyCacheTtl()).maximumSize(10_000).build();
        this.lastRecognised = Caffeine.newBuilder().expireAfterWrite(STALE_IF_STORE_DOWN).maximumSize(10_000).build();
        this.byId = Caffeine.newBuilder().expireAfterWrite(properties.keyCacheTtl()).maximumSize(10_000).build();
    }

    /** A new client and its key, which is never available again. */
    public record CreatedClient(ApiClient client, String key) {

        @Override
        public String toString() {
            return "CreatedClient[client=" + client + ", key=(redacted)]";
        }
    }

    public CreatedClient create(String actor, String name, Role role, List<String> allowedApps,
            List<String> allowedAccounts, @Nullable Instant expiresAt) {
        Instant now = clock.instant();
        if (expiresAt != null && !expiresAt.isAfter(now)) {
            throw ApiException.invalidField("expires_at", "must be in the future");
        }
        if (role != Role.CLIENT && (!allowedApps.isEmpty() || !allowedAccounts.isEmpty())) {
            throw ApiException.invalidField(allowedApps.isEmpty() ? "allowed_accounts" : "allowed_apps",
                    "only a client with role 'client' is limited to apps or accounts");
        }
        String key = ApiKeys.generate();
        ApiClient client = new ApiClient(ApiKeys.clientIdFor(key), name, role, allowedApps, allowedAccounts,
                ApiKeys.publicPrefix(key), now, expiresAt, null);
        clients.create(client, ApiKeys.hash(key));
        audit.success(actor, AuditActions.CLIENT_CREATE, "client", client.id(), Map.of("role", role.name().toLowerCase(java.util.Locale.ROOT), "name", name));
        return new CreatedClient(client, key);
    }

    /** A page of clients in id order after the client {@code after} ({@code null}: the first page). */
    public StorePage<ApiClient> page(@org.jspecify.annotations.Nullable String after, int limit) {
        return clients.page(after, limit);
    }

    /** Revokes a client's key. The last usable admin cannot be revoked: nobody could manage Postern. */
    public ApiClient revoke(String actor, String clientId) {
        ApiClientRepository.StoredClient stored = clients.find(clientId)
            .orElseThrow(() -> ApiException.notFound("API client " + clientId));
        Instant now = clock.instant();
        if (stored.client().revokedAt() != null) {
            return stored.client();
        }
        if (stored.client().role() == Role.ADMIN && clients.findAll()
            .stream()
            .filter(c -> c.role() == Role.ADMIN && c.isUsableAt(now))
            .count() <= 1) {
            throw ApiException.conflict(ProblemTypes.LAST_ADMIN, "This is the last usable admin client; create another admin first.");
        }
        ApiClient c = stored.client();
        ApiClient revoked = new ApiClient(c.id(), c.name(), c.role(), c.allowedApps(), c.allowedAccounts(),
                c.keyPrefix(), c.createdAt(), c.expiresAt(), now);
        clients.update(stored, revoked);
        recognised.asMap().values().removeIf(cached -> cached.id().equals(clientId));
        lastRecognised.asMap().values().removeIf(cached -> cached.id().equals(clientId));
        byId.invalidate(clientId);
        audit.success(actor, AuditActions.CLIENT_REVOKE, "client", clientId, Map.of());
        // What stays open for the key ends too: the mail proxy's sessions it logged in.
        events.publishEvent(new ApiClientRevokedEvent(clientId));
        return revoked;
    }

    /** The caller that {@code key} belongs to, when the key is known, unrevoked and unexpired. */
    public Optional<ApiPrincipal> authenticate(String key) {
        if (key.length() < ApiKeys.MIN_LENGTH || key.length() > 512) {
            return Optional.empty();
        }
        String hash = ApiKeys.hash(key);
        ApiClient client;
        try {
            // One store read per key however many requests bring it at once: a burst at a replica that just
            // started, or as the cache period ends, would otherwise read the same document once per request.
            client = recognised.get(hash, keyHash -> {
                Optional<ApiClientRepository.StoredClient> stored = clients.find(ApiKeys.clientIdFor(key));
                if (stored.isEmpty() || !ApiKeys.hashesMatch(stored.get().keyHash(), keyHash)) {
                    lastRecognised.invalidate(keyHash);
                    return null;
                }
                lastRecognised.put(keyHash, stored.get().client());
                if (stored.get().client().isUsableAt(clock.instant())) {
                    // Here, once per key and cache period, not on every request the cache answers.
                    authenticatedWithinADay.put(keyHash, Boolean.TRUE);
                }
                return stored.get().client();
            });
        }
        catch (StoreUnavailableException ex) {
            client = lastRecognised.getIfPresent(hash);
            if (client == null) {
                throw ex;
            }
            // Back for one cache period: one request per key and period waits for the store, not every one.
            recognised.put(hash, client);
        }
        return client != null && client.isUsableAt(clock.instant()) ? Optional.of(ApiPrincipal.of(client))
                : Optional.empty();
    }

    /** Whether {@code key} authenticated on this replica within a day (it may be revoked since). */
    boolean authenticatedRecently(String key) {
        return authenticatedWithinADay.getIfPresent(ApiKeys.hash(key.strip())) != null;
    }

    /** The caller {@code clientId} as it stands now, when it exists, unrevoked and unexpired. */
    public Optional<ApiPrincipal> principalOf(String clientId) {
        ApiClient client = byId.get(clientId,
                id -> clients.find(id).map(ApiClientRepository.StoredClient::client).orElse(null));
        return client != null && client.isUsableAt(clock.instant()) ? Optional.of(ApiPrincipal.of(client))
                : Optional.empty();
    }

    /** The name of client {@code clientId}, for showing who is signed in. */
    public Optional<String> nameOf(String clientId) {
        return clients.find(clientId).map(stored -> stored.client().name());
    }
}
