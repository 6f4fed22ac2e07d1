package dev.postern.broker.store;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link Lease} in a document of its own, such as {@code leases/expiry-scan}: which replica does a
 * piece of work that one replica at a time must do.
 */
public final class LeaseDocument {

    private final SecretStore store;

    private final SecretPath path;

    private final String owner;

    public LeaseDocument(SecretStore store, SecretPath path, String owner) {
        this.store = store;
        this.path = path;
        this.owner = owner;
    }

    /** The lease {@code leases/{name}}, held under a name of its own ({@link #holderName}). */
    public static LeaseDocument named(SecretStore store, String name) {
        return new LeaseDocument(store, SecretPath.of(StoreCollection.LEASES, name), holderName());
    }

    /** The host name and a random suffix: readable in the lease, unique per holder. */
    private static String holderName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        }
        catch (UnknownHostException ex) {
            host = "unknown-host";
        }
        return host + "/" + StoreIds.newId("replica");
    }

    /** This replica's name in the lease. */
    public String owner() {
        return owner;
    }

    /** Takes or renews the lease until {@code now + duration}; {@code false} when another replica holds it. */
    public boolean tryAcquire(Instant now, Duration duration) {
        Optional<StoredDocument> current = store.read(path);
        if (current.isPresent()) {
            Optional<Lease> held = Lease.takeFrom(new HashMap<>(current.get().document().data()));
            if (held.isPresent() && held.get().heldByAnother(owner, now)) {
                return false;
            }
        }
        try {
            store.write(path, SecretDocument.of(Lease.addTo(Map.of("acquired_at", now.toString()),
                    new Lease(owner, now.plus(duration)))), current.map(StoredDocument::version).orElse(SecretStore.NEW));
            return true;
        }
        catch (VersionConflictException ex) {
            return false; // another replica took it in the same moment
        }
    }
}
