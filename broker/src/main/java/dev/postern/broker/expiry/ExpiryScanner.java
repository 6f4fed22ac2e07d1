package dev.postern.broker.expiry;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.scheduling.annotation.Scheduled;

import dev.postern.broker.PublicUrl;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.expiry.AlertStateRepository.AppAlerts;
import dev.postern.broker.expiry.AlertStateRepository.FiredObject;
import dev.postern.broker.expiry.ExpiryResolvedEvent.ResolvedObject;
import dev.postern.broker.store.LeaseDocument;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.VersionConflictException;

/**
 * The expiry scan: asks every {@link ExpiringObjectSource}, judges each object against the
 * thresholds, and, on the replica holding the scan lease, records newly crossed thresholds per
 * app with compare-and-set and publishes one {@link ExpiryEvent} per app. Runs at start-up and
 * every {@code postern.expiry.scan-interval}.
 */
public class ExpiryScanner {

    private static final Logger log = LoggerFactory.getLogger(ExpiryScanner.class);

    private static final int MAX_CAS_ATTEMPTS = 5;

    /** Alert states read together by the lease holder's scan: a page's worth, as {@code /v1/expiry} reads them. */
    private static final int ALERT_STATE_BATCH = 100;

    private final List<ExpiringObjectSource> sources;

    private final AlertStateRepository alerts;

    private final LeaseDocument lease;

    private final AppRepository apps;

    private final ExpiryProperties properties;

    private final PublicUrl publicUrl;

    private final ApplicationEventPublisher events;

    private final ExpiryMetrics metrics;

    private final Clock clock;

    private final AtomicReference<@Nullable Snapshot> last = new AtomicReference<>();

    /**
     * Each app's alert state as this replica's last scan left it, when that scan held the lease:
     * the lease holder is the one writer of alert states, so a page of {@code /v1/expiry} takes
     * them from here instead of reading one document per app (docs/performance.md). Empty on a
     * replica that did not alert: its pages read the states.
     */
    private volatile Map<String, AppAlerts> alertedStates = Map.of();

    /**
     * What the last scan saw.
     *
     * @param at when it ran
     * @param objects every object, soonest first
     * @param alerted whether this replica held the lease and alerted
     * @param failedSources the sources that failed, by name, with the exception type
     * @param summary the counts and timeline every page of {@code /v1/expiry} shows, computed here once
     */
    public record Snapshot(Instant at, List<ObjectExpiry> objects, boolean alerted, Map<String, String> failedSources,
            ExpirySummary summary) {

        public Snapshot {
            objects = List.copyOf(objects);
            failedSources = Map.copyOf(failedSources);
        }

        Snapshot(Instant at, List<ObjectExpiry> objects, boolean alerted, Map<String, String> failedSources) {
            this(at, objects, alerted, failedSources, ExpirySummary.of(objects, at));
        }
    }

    public ExpiryScanner(List<ExpiringObjectSource> sources, AlertStateRepository alerts, LeaseDocument lease,
            AppRepository apps, ExpiryProperties properties, PublicUrl publicUrl,
            ApplicationEventPublisher events, ExpiryMetrics metrics, Clock clock) {
        this.sources = List.copyOf(sources);
        this.alerts = alerts;
        this.lease = lease;
        this.apps = apps;
        this.properties = properties;
        this.publicUrl = publicUrl;
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** The scheduled scan; the first run is at start-up. */
    @Scheduled(fixedDelayString = "${postern.expiry.scan-interval:1h}")
    public void scheduledScan() {
        try {
            scan();
        }
        catch (RuntimeException ex) {
            // The next interval tries again; the health check keeps showing the last good scan.
            log.warn("Expiry scan failed: {}", ex.toString());
        }
    }

    /**
     * Scans now: every replica judges the objects (for metrics and health), the lease holder also
     * alerts.
     */
    public synchronized Snapshot scan() {
        long started = System.nanoTime();
        Instant now = clock.instant();
        Map<String, String> failed = new LinkedHashMap<>();
        for (ExpiringObjectSource source : sources) {
            try {
                source.refresh();
            }
            catch (RuntimeException ex) {
                failed.put(source.name(), ex.getClass().getSimpleName());
            }
        }
        List<ObjectExpiry> judged = judge(now, failed);
        boolean alerting = lease.tryAcquire(now, properties.scanInterval());
        Map<String, AppAlerts> states = new HashMap<>();
        if (alerting) {
            alert(judged, now, !failed.isEmpty(), states);
        }
        Snapshot snapshot = new Snapshot(now, judged, alerting, failed);
        alertedStates = Map.copyOf(states);
        last.set(snapshot);
        metrics.update(snapshot);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        metrics.scanned(took);
        log.info("Expiry scan: {} objects in {} ms{}", judged.size(), took.toMillis(), alerting ? ", alerts sent" : "");
        return snapshot;
    }

    /** The last scan, if one ran: what health and metrics show, so that reading them never starts one. */
    public Optional<Snapshot> lastScan() {
        return Optional.ofNullable(last.get());
    }

    private List<ObjectExpiry> judge(Instant now, Map<String, String> failed) {
        List<ObjectExpiry> judged = new ArrayList<>();
        for (ExpiringObjectSource source : sources) {
            try {
                for (ExpiringObject object : source.expiringObjects()) {
                    judged.add(ObjectExpiry.judge(object, properties.thresholds(), now));
                }
            }
            catch (RuntimeException ex) {
                log.warn("Expiry source {} failed: {}", source.name(), ex.getClass().getSimpleName());
                failed.put(source.name(), ex.getClass().getSimpleName());
            }
        }
        judged.sort(Comparator.comparing((ObjectExpiry o) -> o.object().expiresAt())
            .thenComparing(o -> o.object().appId())
            .thenComparing(o -> o.object().id()));
        return judged;
    }

    /** Alerts app by app; {@code states} gets each app's state as left, an app that failed none. */
    private void alert(List<ObjectExpiry> judged, Instant now, boolean someSourceFailed, Map<String, AppAlerts> states) {
        Map<String, List<ObjectExpiry>> byApp = new LinkedHashMap<>();
        for (ObjectExpiry expiry : judged) {
            byApp.computeIfAbsent(expiry.object().appId(), id -> new ArrayList<>()).add(expiry);
        }
        Set<String> withDocument = new HashSet<>(alerts.appIds());
        Set<String> appIds = new TreeSet<>(byApp.keySet());
        appIds.addAll(withDocument);
        List<String> valid = new ArrayList<>();
        for (String appId : appIds) {
            if (AlertStateRepository.validAppId(appId).isEmpty()) {
                log.warn("Expiry objects of an app id that cannot be stored were skipped");
                continue;
            }
            // An app with no alert document and nothing inside a threshold has nothing to fire or
            // resolve: its state is known without a read (most apps, most scans).
            if (!withDocument.contains(appId) && byApp.get(appId).stream().allMatch(o -> o.crossed().isEmpty())) {
                states.put(appId, AlertStateRepository.NONE);
                continue;
            }
            valid.add(appId);
        }
        // The states are read a batch at a time (one batch read each), not one app after the other:
        // 10,000 apps were 10,000 sequential reads in every scan of the lease holder.
        for (int from = 0; from < valid.size(); from += ALERT_STATE_BATCH) {
            List<String> batch = valid.subList(from, Math.min(valid.size(), from + ALERT_STATE_BATCH));
            Map<String, AppAlerts> read;
            try {
                read = alerts.findAll(batch);
            }
            catch (RuntimeException ex) {
                log.warn("Expiry alert states of {} apps could not be read, next scan retries: {}", batch.size(), ex.toString());
                continue;
            }
            for (String appId : batch) {
                try {
                    states.put(appId, alertApp(appId, read.get(appId), byApp.getOrDefault(appId, List.of()), now, someSourceFailed));
                }
                catch (RuntimeException ex) {
                    log.warn("Expiry alerts for app {} failed, next scan retries: {}", appId, ex.toString());
                }
            }
        }
    }

    /**
     * Records and publishes what newly fired for one app, starting from {@code read}, its state as
     * just read; returns its state as left.
     */
    private AppAlerts alertApp(String appId, AppAlerts read, List<ObjectExpiry> objects, Instant now, boolean someSourceFailed) {
        AppAlerts state = read;
        for (int attempt = 1;; attempt++) {
            if (attempt > 1) {
                state = alerts.find(appId);
            }
            Decision decision = decide(state, objects, now, someSourceFailed);
            if (!decision.changed()) {
                return state;
            }
            long version;
            try {
                version = alerts.save(appId, decision.incidentId(), decision.objects(), state.version());
            }
            catch (VersionConflictException ex) {
                if (attempt >= MAX_CAS_ATTEMPTS) {
                    throw ex;
                }
                continue; // another replica wrote: read its state and decide again
            }
            publish(appId, decision, now);
            return new AppAlerts(decision.incidentId(), decision.objects(), version);
        }
    }

    private record Decision(@Nullable String incidentId, Map<String, FiredObject> objects, List<ExpiryAlert> fired,
            List<ResolvedObject> resolved, @Nullable String resolvedIncident, boolean changed) {
    }

    private Decision decide(AppAlerts state, List<ObjectExpiry> objects, Instant now, boolean someSourceFailed) {
        Map<String, FiredObject> next = new LinkedHashMap<>(state.objects());
        List<ExpiryAlert> fired = new ArrayList<>();
        List<ResolvedObject> resolved = new ArrayList<>();
        Set<String> present = new LinkedHashSet<>();
        for (ObjectExpiry expiry : objects) {
            ExpiringObject object = expiry.object();
            FiredObject previous = next.get(object.id());
            if (!expiry.isWatched()) {
                if (previous != null) {
                    next.remove(object.id());
                    resolved.add(new ResolvedObject(object.kind().value(), object.id(), object.label(), "superseded"));
                }
                continue;
            }
            present.add(object.id());
            if (previous != null && !previous.expiresAt().equals(object.expiresAt())) {
                // A new expiry (a mailbox refreshed or reconnected) re-arms every threshold.
                next.remove(object.id());
                if (expiry.crossed().isEmpty()) {
                    resolved.add(new ResolvedObject(object.kind().value(), object.id(), object.label(), "renewed"));
                    continue;
                }
                previous = null;
            }
            Set<String> already = previous == null ? Set.of() : previous.fired();
            List<String> fresh = expiry.crossed().stream().filter(name -> !already.contains(name)).toList();
            if (fresh.isEmpty()) {
                continue;
            }
            Set<String> all = new LinkedHashSet<>(already);
            all.addAll(expiry.crossed());
            next.put(object.id(), new FiredObject(object.kind().value(), object.label(), object.expiresAt(), all));
            fired.add(new ExpiryAlert(object, expiry.state(), fresh.getLast(), expiry.daysLeft(), actionUrl(object)));
        }
        // A source that failed this scan lists nothing: its objects are not gone, so nothing resolves.
        if (!someSourceFailed) {
            for (Map.Entry<String, FiredObject> entry : state.objects().entrySet()) {
                String id = entry.getKey();
                boolean listed = objects.stream().anyMatch(o -> o.object().id().equals(id));
                if (!listed && next.containsKey(id)) {
                    next.remove(id);
                    resolved.add(new ResolvedObject(entry.getValue().kind(), id, entry.getValue().label(), "removed"));
                }
            }
        }
        String incidentId = state.incidentId();
        if (!fired.isEmpty() && incidentId == null) {
            incidentId = StoreIds.newId("inc");
        }
        String resolvedIncident = state.incidentId();
        if (next.isEmpty()) {
            incidentId = null;
        }
        boolean changed = !fired.isEmpty() || !resolved.isEmpty();
        return new Decision(incidentId, next, fired, resolved, resolvedIncident, changed);
    }

    private @Nullable URI actionUrl(ExpiringObject object) {
        if (object.kind() == ExpiringObject.Kind.MAILBOX) {
            // Never the reconnect link itself: alerts go to shared channels, and a link is a bearer capability.
            return publicUrl.resolve("/admin/#/mailboxes");
        }
        return publicUrl.resolve("/admin/apps/" + object.appId());
    }

    private void publish(String appId, Decision decision, Instant now) {
        // The name as the scan just listed it: no read per app that alerts (725 in one scan at 10,000 apps).
        String appName = sources.stream().map(source -> source.appName(appId)).filter(Objects::nonNull).findFirst()
            .orElseGet(() -> apps.find(appId).map(stored -> stored.app().name()).orElse(appId));
        if (!decision.resolved().isEmpty() && decision.resolvedIncident() != null) {
            decision.resolved().forEach(r -> metrics.alertFired("resolved"));
            events.publishEvent(new ExpiryResolvedEvent(decision.resolvedIncident(), appId, appName,
                    decision.resolved(), decision.incidentId() == null, now));
        }
        if (decision.fired().isEmpty()) {
            return;
        }
        List<ExpiryAlert> fired = new ArrayList<>(decision.fired());
        fired.sort(Comparator.comparing(ExpiryAlert::expiresAt));
        boolean anyExpired = false;
        for (ExpiryAlert alert : fired) {
            String kind = switch (alert.threshold()) {
                case ObjectExpiry.EXPIRED -> "expired";
                case ObjectExpiry.REAUTH_REQUIRED -> "reauth_required";
                default -> "expiring";
            };
            anyExpired |= !kind.equals("expiring");
            metrics.alertFired(kind);
        }
        events.publishEvent(anyExpired ? new CredentialExpiredEvent(decision.incidentId(), appId, appName, fired, now)
                : new CredentialExpiringEvent(decision.incidentId(), appId, appName, fired, now));
    }

    /**
     * The fired thresholds of {@code appIds} per object id, for the API: as this replica's last
     * scan left them when it alerted, else read in one batch.
     */
    public Map<String, AppAlerts> alertStates(Set<String> appIds) {
        Map<String, AppAlerts> known = alertedStates;
        List<String> unknown = appIds.stream().filter(id -> !known.containsKey(id)).toList();
        Map<String, AppAlerts> read = unknown.isEmpty() ? Map.of() : alerts.findAll(unknown);
        Map<String, AppAlerts> states = new LinkedHashMap<>();
        for (String appId : appIds) {
            states.put(appId, known.containsKey(appId) ? known.get(appId) : read.get(appId));
        }
        return states;
    }
}
