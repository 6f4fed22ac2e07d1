package dev.postern.broker.expiry;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.VersionConflictException;

/**
 * Decides which replica alerts in a scan interval: the lease document {@code leases/expiry-scan}
 * holds an owner and an {@code until}, taken with compare-and-set. The owner may renew it at any
 * time; anyone may take it once {@code until} has passed, so a dead owner blocks one interval at
 * most.
 */
public class ScanLease {

    static final SecretPath PATH = SecretPath.of(StoreCollection.LEASES, "expiry-scan");

    private final SecretStore store;

    private final String owner;

    public ScanLease(SecretStore store, String owner) {
        this.store = store;
        this.owner = owner;
    }

    /** This replica's name in the lease. */
    public String owner() {
        return owner;
    }

    /** Takes or renews the lease until {@code now + duration}; {@code false} when another replica holds it. */
    public boolean tryAcquire(Instant now, Duration duration) {
        var current = store.read(PATH);
        long version = SecretStore.NEW;
        if (current.isPresent()) {
            Map<String, Object> data = current.get().document().data();
            Instant until = Instant.parse(String.valueOf(data.get("until")));
            if (!owner.equals(data.get("owner")) && now.isBefore(until)) {
                return false;
            }
            version = current.get().version();
        }
        try {
            store.write(PATH, SecretDocument.of(Map.of("owner", owner, "acquired_at", now.toString(), "until",
                    now.plus(duration).toString())), version);
            return true;
        }
        catch (VersionConflictException ex) {
            return false; // another replica took it in the same moment
        }
    }
}
