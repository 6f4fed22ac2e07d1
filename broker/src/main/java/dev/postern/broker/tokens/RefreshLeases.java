package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

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
 */
@Component
class RefreshLeases {

    /** This process, as a lease holder. */
    private final String owner = StoreIds.newId("broker");

    private final SecretStore store;

    private final Clock clock;

    private final TokenProperties properties;

    RefreshLeases(SecretStore store, Clock clock, TokenProperties properties) {
        this.store = store;
        this.clock = clock;
        this.properties = properties;
    }

    /** Takes the lease of {@code accountId} when nobody else holds it; {@code false} when someone does. */
    boolean tryAcquire(String accountId) {
        SecretPath path = path(accountId);
        Instant now = clock.instant();
        Optional<StoredDocument> current = store.read(path);
        if (current.isPresent()) {
            Map<String, Object> data = current.get().document().data();
            boolean held = Instant.parse(String.valueOf(data.get("until"))).isAfter(now);
            if (held && !owner.equals(data.get("owner"))) {
                return false;
            }
        }
        try {
            store.write(path, SecretDocument.of(Map.of("owner", owner, "until", now.plus(properties.leaseDuration()).toString())),
                    current.map(StoredDocument::version).orElse(SecretStore.NEW));
            return true;
        }
        catch (VersionConflictException ex) {
            return false;
        }
    }

    /** Whether another process holds the lease of {@code accountId} and it has not run out. */
    boolean heldByAnother(String accountId) {
        return store.read(path(accountId)).map(lease -> {
            Map<String, Object> data = lease.document().data();
            return !owner.equals(data.get("owner")) && Instant.parse(String.valueOf(data.get("until"))).isAfter(clock.instant());
        }).orElse(false);
    }

    /** Gives the lease of {@code accountId} back. */
    void release(String accountId) {
        SecretPath path = path(accountId);
        store.read(path).filter(lease -> owner.equals(lease.document().data().get("owner"))).ifPresent(lease -> store.delete(path));
    }

    private static SecretPath path(String accountId) {
        return SecretPath.of(StoreCollection.LEASES, "refresh-" + accountId);
    }
}
