package dev.postern.broker.expiry;

import java.time.Instant;
import java.util.List;

/**
 * Objects that had alerted were rotated, removed or reconnected.
 *
 * @param incidentId the app's incident
 * @param appId the app
 * @param appName its name
 * @param resolved the objects, by id and label
 * @param incidentClosed whether no object of the app is alerting any more
 * @param at when
 */
public record ExpiryResolvedEvent(String incidentId, String appId, String appName, List<ResolvedObject> resolved,
        boolean incidentClosed, Instant at) implements ExpiryEvent {

    public ExpiryResolvedEvent {
        resolved = List.copyOf(resolved);
    }

    /**
     * One object whose alert resolved.
     *
     * @param kind what it was
     * @param id its id
     * @param label its human name
     * @param reason {@code superseded}, {@code removed} or {@code renewed}
     */
    public record ResolvedObject(String kind, String id, String label, String reason) {
    }

    @Override
    public String type() {
        return "expiry.resolved";
    }
}
