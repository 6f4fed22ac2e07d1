package dev.postern.broker.expiry;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoredDocument;

/**
 * Which thresholds fired for which object, one document {@code alerts/{app_id}} per app, written
 * with compare-and-set: whoever writes a threshold as fired is the one that notifies, so a
 * restart or a second replica never fires it again.
 */
public class AlertStateRepository {

    /** The document of failed notifications shares the folder; it is not an app. */
    static final String FAILED_NOTIFICATIONS = "failed-notifications";

    private final SecretStore store;

    public AlertStateRepository(SecretStore store) {
        this.store = store;
    }

    /**
     * The alert state of one app.
     *
     * @param incidentId the open incident, or {@code null} when none is open
     * @param objects per object id, what fired
     * @param version the store version to write over
     */
    public record AppAlerts(@Nullable String incidentId, Map<String, FiredObject> objects, long version) {

        public AppAlerts {
            objects = Map.copyOf(objects);
        }
    }

    /**
     * What fired for one object.
     *
     * @param kind its kind
     * @param label its label when it fired
     * @param expiresAt the expiry the thresholds were fired for; another one re-arms them
     * @param fired the names of the thresholds that fired
     */
    public record FiredObject(String kind, String label, Instant expiresAt, Set<String> fired) {

        public FiredObject {
            fired = Set.copyOf(new LinkedHashSet<>(fired));
        }
    }

    /** The state of an app without an alert document: nothing fired. */
    public static final AppAlerts NONE = new AppAlerts(null, Map.of(), SecretStore.NEW);

    /** The app ids that have an alert document. */
    public List<String> appIds() {
        return store.list(SecretPath.of(StoreCollection.ALERTS))
            .stream()
            .filter(id -> !id.equals(FAILED_NOTIFICATIONS))
            .toList();
    }

    public AppAlerts find(String appId) {
        if (!SecretPath.isValidId(appId)) {
            return NONE;
        }
        return toAlerts(store.read(path(appId)));
    }

    /**
     * The states of {@code appIds} (an app without alerts: an empty state), read together in one
     * {@link SecretStore#readAll}: what one page of {@code /v1/expiry} shows, in the time of about
     * one read rather than one per app.
     */
    public Map<String, AppAlerts> findAll(Collection<String> appIds) {
        List<String> valid = appIds.stream().filter(SecretPath::isValidId).distinct().toList();
        List<Optional<StoredDocument>> documents = store.readAll(valid.stream().map(AlertStateRepository::path).toList());
        Map<String, AppAlerts> states = new LinkedHashMap<>();
        for (String appId : appIds) {
            states.put(appId, NONE);
        }
        for (int i = 0; i < valid.size(); i++) {
            states.put(valid.get(i), toAlerts(documents.get(i)));
        }
        return states;
    }

    private static AppAlerts toAlerts(Optional<StoredDocument> document) {
        return document.map(stored -> {
            Map<String, Object> data = stored.document().data();
            Map<String, FiredObject> objects = new LinkedHashMap<>();
            Object rawObjects = data.getOrDefault("objects", Map.of());
            if (rawObjects instanceof Map<?, ?> map) {
                map.forEach((id, raw) -> objects.put(String.valueOf(id), fromMap((Map<?, ?>) raw)));
            }
            return new AppAlerts((String) data.get("incident_id"), objects, stored.version());
        }).orElse(NONE);
    }

    /**
     * Writes the state of app {@code appId} over {@code expectedVersion}.
     *
     * @return the version written
     * @throws dev.postern.broker.store.VersionConflictException when another scan wrote first
     */
    public long save(String appId, @Nullable String incidentId, Map<String, FiredObject> objects, long expectedVersion) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("app_id", appId);
        if (incidentId != null) {
            data.put("incident_id", incidentId);
        }
        Map<String, Object> rawObjects = new LinkedHashMap<>();
        objects.forEach((id, fired) -> rawObjects.put(id, toMap(fired)));
        data.put("objects", rawObjects);
        return store.write(path(appId), SecretDocument.of(data), expectedVersion);
    }

    private static Map<String, Object> toMap(FiredObject fired) {
        return Map.of("kind", fired.kind(), "label", fired.label(), "expires_at", fired.expiresAt().toString(),
                "fired", new ArrayList<>(fired.fired()));
    }

    private static FiredObject fromMap(Map<?, ?> raw) {
        List<String> fired = new ArrayList<>();
        if (raw.get("fired") instanceof List<?> list) {
            list.forEach(item -> fired.add(String.valueOf(item)));
        }
        return new FiredObject(String.valueOf(raw.get("kind")), String.valueOf(raw.get("label")),
                Instant.parse(String.valueOf(raw.get("expires_at"))), new LinkedHashSet<>(fired));
    }

    static Optional<String> validAppId(String appId) {
        return SecretPath.isValidId(appId) ? Optional.of(appId) : Optional.empty();
    }

    private static SecretPath path(String appId) {
        return SecretPath.of(StoreCollection.ALERTS, appId);
    }
}
