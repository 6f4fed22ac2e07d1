package dev.postern.broker.expiry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.VersionConflictException;

/**
 * Notifications that failed after every try, in the store ({@code alerts/failed-notifications},
 * the last {@value #KEEP}) so every replica's {@code GET /v1/expiry} shows them.
 */
public class FailedNotifications {

    static final int KEEP = 100;

    private static final SecretPath PATH = SecretPath.of(StoreCollection.ALERTS, AlertStateRepository.FAILED_NOTIFICATIONS);

    private final SecretStore store;

    public FailedNotifications(SecretStore store) {
        this.store = store;
    }

    /**
     * One notification given up.
     *
     * @param messageId the webhook message id (the same on every try)
     * @param notifier {@code webhook} or {@code mail}
     * @param type the event type
     * @param appId the app
     * @param incidentId the incident
     * @param attempts how often it was tried
     * @param lastError why the last try failed: a status code or exception type, never a body
     * @param failedAt when it was given up
     */
    public record Failure(String messageId, String notifier, String type, String appId, String incidentId,
            int attempts, String lastError, Instant failedAt) {
    }

    public void record(Failure failure) {
        for (int attempt = 1;; attempt++) {
            var current = store.read(PATH);
            List<Map<String, Object>> items = new ArrayList<>(current.map(FailedNotifications::items).orElse(List.of()));
            items.add(toMap(failure));
            while (items.size() > KEEP) {
                items.removeFirst();
            }
            try {
                store.write(PATH, SecretDocument.of(Map.of("items", items)),
                        current.map(stored -> stored.version()).orElse(SecretStore.NEW));
                return;
            }
            catch (VersionConflictException ex) {
                if (attempt >= 5) {
                    throw ex;
                }
            }
        }
    }

    /** The failures kept, oldest first. */
    public List<Failure> list() {
        return store.read(PATH).map(FailedNotifications::items).orElse(List.of()).stream().map(FailedNotifications::fromMap).toList();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> items(dev.postern.broker.store.StoredDocument stored) {
        return (List<Map<String, Object>>) stored.document().data().getOrDefault("items", List.of());
    }

    private static Map<String, Object> toMap(Failure failure) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("message_id", failure.messageId());
        map.put("notifier", failure.notifier());
        map.put("type", failure.type());
        map.put("app_id", failure.appId());
        map.put("incident_id", failure.incidentId());
        map.put("attempts", failure.attempts());
        map.put("last_error", failure.lastError());
        map.put("failed_at", failure.failedAt().toString());
        return map;
    }

    private static Failure fromMap(Map<String, Object> map) {
        return new Failure(String.valueOf(map.get("message_id")), String.valueOf(map.get("notifier")),
                String.valueOf(map.get("type")), String.valueOf(map.get("app_id")),
                String.valueOf(map.get("incident_id")), ((Number) map.get("attempts")).intValue(),
                String.valueOf(map.get("last_error")), Instant.parse(String.valueOf(map.get("failed_at"))));
    }
}
