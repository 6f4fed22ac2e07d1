package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.StoredDocument;
import dev.postern.broker.store.VersionConflictException;

/**
 * Short leases in the store ({@code leases/refresh-{account}}), written with CAS, so that of
 * several broker replicas only one refreshes a mailbox at a time. A lease whose holder died
 * expires after {@code postern.tokens.lease-duration}.
 * <p>
 * A lease is given back by writing it as expired rather than deleting it, and this process
 * remembers the version it wrote last: taking the lease of a mailbox again is then one CAS write
 * on that version (it fails when another replica wrote since), instead of a read and a write.
 * Each store call is on the path of a token miss (docs/performance.md).
 */
@Component
class RefreshLeases {

    /** This process, as a lease holder. */
    private final String owner = StoreIds.newId("broker");

    private final SecretStore store;

    private final Clock clock;

    private final TokenProperties properties;

    /** The version of each lease document that this process wrote last. */
    private final ConcurrentHashMap<String, Long> writtenVersions = new ConcurrentHashMap<>();

    RefreshLeases(SecretStore store, Clock clock, TokenProperties properties) {
        this.store = store;
        this.clock = clock;
        this.properties = properties;
    }

    /** What {@link #tryAcquire} did. */
    enum Acquired {
        /** Another replica holds the lease. */
        NO,
        /** Taken. */
        YES,
        /**
         * Taken, and the lease was still as this process last wrote it: no other replica has taken
         * it, so none has refreshed the mailbox since this process last did.
         */
        YES_UNCHANGED_SINCE_OURS
    }

    /** Takes the lease of {@code accountId} when nobody else holds it. */
    Acquired tryAcquire(String accountId) {
        Instant until = clock.instant().plus(properties.leaseDuration());
        Long written = writtenVersions.get(accountId);
        if (written != null && write(accountId, until, written)) {
            return Acquired.YES_UNCHANGED_SINCE_OURS;
        }
        Optional<StoredDocument> current = store.read(path(accountId));
        if (current.isPresent() && heldByAnother(current.get())) {
            return Acquired.NO;
        }
        return write(accountId, until, current.map(StoredDocument::version).orElse(SecretStore.NEW)) ? Acquired.YES
                : Acquired.NO;
    }

    /** Whether another process holds the lease of {@code accountId} and it has not run out. */
    boolean heldByAnother(String accountId) {
        return store.read(path(accountId)).map(this::heldByAnother).orElse(false);
    }

    private boolean heldByAnother(StoredDocument lease) {
        Map<String, Object> data = lease.document().data();
        return !owner.equals(data.get("owner")) && Instant.parse(String.valueOf(data.get("until"))).isAfter(clock.instant());
    }

    /** Gives the lease of {@code accountId} back, unless another replica took it meanwhile (it had expired). */
    void release(String accountId) {
        Long written = writtenVersions.get(accountId);
        if (written != null) {
            write(accountId, clock.instant(), written);
        }
    }

    /** Removes the lease document of a mailbox that is gone. */
    void forget(String accountId) {
        writtenVersions.remove(accountId);
        store.delete(path(accountId));
    }

    private boolean write(String accountId, Instant until, long expectedVersion) {
        try {
            long version = store.write(path(accountId),
                    SecretDocument.of(Map.of("owner", owner, "until", until.toString())), expectedVersion);
            writtenVersions.merge(accountId, version, Math::max);
            return true;
        }
        catch (VersionConflictException ex) {
            writtenVersions.remove(accountId, expectedVersion);
            return false;
        }
    }

    private static SecretPath path(String accountId) {
        return SecretPath.of(StoreCollection.LEASES, "refresh-" + accountId);
    }
}
