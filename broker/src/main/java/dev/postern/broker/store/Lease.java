package dev.postern.broker.store;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * The one lease primitive of the broker: a holder and the instant its hold ends, kept as two
 * fields of a store document and taken with the document's compare-and-set write. The holder may
 * renew it at any time; anyone may take it once {@code until} has passed, so a holder that died
 * blocks others for one lease at most. It lives in a document of its own ({@link LeaseDocument},
 * the expiry scan) or inside the document it guards (a mailbox's refresh lease in its account,
 * so taking it also gives the version the refresh's save names).
 *
 * @param owner the process holding it
 * @param until when the hold ends
 */
public record Lease(String owner, Instant until) {

    static final String OWNER = "lease_owner";

    static final String UNTIL = "lease_until";

    /** Whether someone other than {@code candidate} holds it at {@code now}. */
    public boolean heldByAnother(String candidate, Instant now) {
        return !owner.equals(candidate) && until.isAfter(now);
    }

    /** The lease stored in {@code data}, if any; the fields are removed from {@code data}. */
    public static Optional<Lease> takeFrom(Map<String, Object> data) {
        Object owner = data.remove(OWNER);
        Object until = data.remove(UNTIL);
        return owner == null || until == null ? Optional.empty()
                : Optional.of(new Lease(owner.toString(), Instant.parse(until.toString())));
    }

    /** {@code data} with {@code lease}'s fields added, or as is when {@code lease} is null. */
    public static Map<String, Object> addTo(Map<String, Object> data, @Nullable Lease lease) {
        if (lease == null) {
            return data;
        }
        Map<String, Object> with = new LinkedHashMap<>(data);
        with.put(OWNER, lease.owner());
        with.put(UNTIL, lease.until().toString());
        return with;
    }
}
