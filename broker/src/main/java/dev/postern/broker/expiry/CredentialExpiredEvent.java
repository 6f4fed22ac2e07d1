package dev.postern.broker.expiry;

import java.time.Instant;
import java.util.List;

/**
 * At least one object of one app expired (or a mailbox needs reconnecting) in this scan. The
 * alerts also list the app's objects that crossed a warning threshold in the same scan, so the
 * app gets one notification.
 *
 * @param incidentId the app's open incident
 * @param appId the app
 * @param appName its name
 * @param alerts every object of the app that crossed a threshold in this scan, soonest first
 * @param at when
 */
public record CredentialExpiredEvent(String incidentId, String appId, String appName, List<ExpiryAlert> alerts,
        Instant at) implements ExpiryEvent {

    public CredentialExpiredEvent {
        alerts = List.copyOf(alerts);
    }

    @Override
    public String type() {
        return "expiry.expired";
    }
}
