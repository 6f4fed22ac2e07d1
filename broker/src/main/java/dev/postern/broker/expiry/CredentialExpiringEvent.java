package dev.postern.broker.expiry;

import java.time.Instant;
import java.util.List;

/**
 * Objects of one app crossed a warning threshold in this scan (none has expired).
 *
 * @param incidentId the app's open incident
 * @param appId the app
 * @param appName its name
 * @param alerts every object of the app that crossed a threshold in this scan, soonest first
 * @param at when
 */
public record CredentialExpiringEvent(String incidentId, String appId, String appName, List<ExpiryAlert> alerts,
        Instant at) implements ExpiryEvent {

    public CredentialExpiringEvent {
        alerts = List.copyOf(alerts);
    }

    @Override
    public String type() {
        return "expiry.expiring";
    }
}
