package dev.postern.broker.expiry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The words of an alert, the same for every notifier: subject, plain text, and the JSON payload
 * of the webhook. Built from ids, names, dates and links only; no secret ever reaches an event.
 */
public final class AlertMessages {

    private AlertMessages() {
    }

    /** A one-line summary. */
    public static String subject(ExpiryEvent event) {
        return switch (event) {
            case CredentialExpiredEvent expired -> "EXPIRED: " + count(expired.alerts().size()) + " of app '"
                    + event.appName() + "' expired or need action";
            case CredentialExpiringEvent expiring -> count(expiring.alerts().size()) + " of app '" + event.appName()
                    + "' expire" + (expiring.alerts().size() == 1 ? "s" : "") + " within "
                    + expiring.alerts().getFirst().threshold().replace("d", " days").replace("h", " hours");
            case ExpiryResolvedEvent resolved -> "Resolved: " + count(resolved.resolved().size()) + " of app '"
                    + event.appName() + "'" + (resolved.incidentClosed() ? ", incident closed" : "");
        };
    }

    private static String count(int n) {
        return n == 1 ? "1 credential" : n + " credentials";
    }

    /** The body of an e-mail or log entry: one paragraph per object. */
    public static String text(ExpiryEvent event) {
        StringBuilder text = new StringBuilder(subject(event)).append("\n\n");
        text.append("App: ").append(event.appName()).append(" (").append(event.appId()).append(")\n");
        text.append("Incident: ").append(event.incidentId()).append("\n\n");
        switch (event) {
            case CredentialExpiredEvent expired -> expired.alerts().forEach(alert -> paragraph(text, alert));
            case CredentialExpiringEvent expiring -> expiring.alerts().forEach(alert -> paragraph(text, alert));
            case ExpiryResolvedEvent resolved -> resolved.resolved()
                .forEach(object -> text.append("- ").append(object.label()).append(": ").append(object.reason()).append('\n'));
        }
        return text.toString();
    }

    private static void paragraph(StringBuilder text, ExpiryAlert alert) {
        text.append("- ").append(alert.object().label()).append('\n');
        text.append("  ").append(alert.state() == ExpiryState.EXPIRED ? "Expired" : "Expires").append(": ")
            .append(alert.expiresAt()).append(" (").append(alert.daysLeft()).append(" days left, threshold ")
            .append(alert.threshold()).append(")\n");
        text.append("  To do: ").append(alert.action()).append("\n\n");
    }

    /** The {@code data} of the Standard Webhooks payload. */
    public static Map<String, Object> data(ExpiryEvent event) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("incident_id", event.incidentId());
        data.put("app_id", event.appId());
        data.put("app_name", event.appName());
        data.put("summary", subject(event));
        List<Map<String, Object>> objects = new ArrayList<>();
        switch (event) {
            case CredentialExpiredEvent expired -> expired.alerts().forEach(alert -> objects.add(object(alert)));
            case CredentialExpiringEvent expiring -> expiring.alerts().forEach(alert -> objects.add(object(alert)));
            case ExpiryResolvedEvent resolved -> {
                data.put("incident_closed", resolved.incidentClosed());
                resolved.resolved().forEach(object -> {
                    Map<String, Object> map = new LinkedHashMap<>();
                    map.put("kind", object.kind());
                    map.put("id", object.id());
                    map.put("label", object.label());
                    map.put("reason", object.reason());
                    objects.add(map);
                });
            }
        }
        data.put("objects", objects);
        return data;
    }

    private static Map<String, Object> object(ExpiryAlert alert) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("kind", alert.object().kind().value());
        map.put("id", alert.object().id());
        map.put("label", alert.object().label());
        map.put("managed", alert.object().managed());
        map.put("expires_at", alert.expiresAt().toString());
        map.put("days_left", alert.daysLeft());
        map.put("threshold", alert.threshold());
        map.put("state", alert.state().value());
        map.put("action", alert.action());
        if (alert.actionUrl() != null) {
            map.put("action_url", alert.actionUrl().toString());
        }
        // No reconnect link for a mailbox: alerts reach shared channels, and a link is a bearer capability.
        return map;
    }
}
