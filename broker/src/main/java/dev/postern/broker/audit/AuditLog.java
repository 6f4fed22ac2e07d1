package dev.postern.broker.audit;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import jakarta.annotation.PreDestroy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoreIds;

/**
 * The audit trail. Each event is written at once as one structured JSON line to the
 * {@code postern.audit} logger, and kept in the store in chunks ({@code audit/{chunk}}) flushed
 * every second, so issuing a token never waits for a Vault write. A crash loses at most the
 * last second of stored events; the log lines have them.
 * <p>
 * Routine repeats ({@link #recordRepeated}: a mail client fetching its cached token thousands of
 * times a second) are counted instead, and written at each flush as one event per actor, action,
 * object and outcome with the {@code count} and the first and last time: one line per second
 * rather than one per request, which was the largest cost of a cached token (see
 * docs/performance.md). A crash loses at most the last second of such counts.
 */
@Service
public class AuditLog {

    private static final Logger auditLog = LoggerFactory.getLogger("postern.audit");

    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

    /** The request id of the current request in the log context (set by the web layer). */
    private static final String REQUEST_ID = "request_id";

    private static final int MAX_EVENTS_PER_CHUNK = 500;

    private final SecretStore store;

    private final Clock clock;

    private final JsonMapper json = JsonMapper.builder().build();

    private final ConcurrentLinkedQueue<AuditEvent> pending = new ConcurrentLinkedQueue<>();

    private final AtomicLong sequence = new AtomicLong();

    private final ConcurrentHashMap<RepeatedEvent, Repeats> repeats = new ConcurrentHashMap<>();

    /** What makes repeated events the same event. */
    private record RepeatedEvent(String actor, String action, String objectType, String objectId, String outcome,
            Map<String, String> details) {
    }

    private record Repeats(long count, Instant first, Instant last) {

        Repeats plus(Repeats other) {
            // Concurrent requests may merge out of clock order.
            return new Repeats(count + other.count, first.isBefore(other.first) ? first : other.first,
                    last.isAfter(other.last) ? last : other.last);
        }
    }

    public AuditLog(SecretStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** Records that {@code actor} did {@code action} on an object, with its outcome. */
    public AuditEvent record(String actor, String action, String objectType, String objectId, String outcome,
            Map<String, String> details) {
        Instant now = clock.instant();
        AuditEvent event = new AuditEvent(newEventId(now), now, actor, action, objectType, objectId, outcome,
                MDC.get(REQUEST_ID), details);
        pending.add(event);
        writeLine(event);
        return event;
    }

    /**
     * Counts one more occurrence of a routine event; the count is recorded as one event at the
     * next flush (see the class comment).
     */
    public void recordRepeated(String actor, String action, String objectType, String objectId, String outcome,
            Map<String, String> details) {
        Instant now = clock.instant();
        // merge is atomic per key, and flush takes a key out with remove: no count is lost in between.
        repeats.merge(new RepeatedEvent(actor, action, objectType, objectId, outcome, details), new Repeats(1, now, now),
                Repeats::plus);
    }

    /** Records a successful action. */
    public AuditEvent success(String actor, String action, String objectType, String objectId,
            Map<String, String> details) {
        return record(actor, action, objectType, objectId, "success", details);
    }

    private void writeLine(AuditEvent event) {
        auditLog.info(json.writeValueAsString(Map.of("log_type", "audit", "event", toMap(event))));
    }

    private String newEventId(Instant now) {
        // Time first and zero-padded, so ids sort by time; the sequence orders events of one millisecond.
        return "evt_%013d_%06d".formatted(now.toEpochMilli(), sequence.incrementAndGet() % 1_000_000);
    }

    /** Writes pending events to the store as one chunk. */
    @Scheduled(fixedDelayString = "${postern.audit.flush-interval:1s}")
    public synchronized void flush() {
        recordRepeats();
        while (!pending.isEmpty()) {
            List<Map<String, Object>> events = new ArrayList<>();
            AuditEvent event;
            while (events.size() < MAX_EVENTS_PER_CHUNK && (event = pending.poll()) != null) {
                events.add(toMap(event));
            }
            String chunkId = "chunk_%013d_%s".formatted(clock.millis(), StoreIds.newId("c"));
            try {
                store.write(SecretPath.of(StoreCollection.AUDIT, chunkId), SecretDocument.of(Map.of("events", events)),
                        SecretStore.NEW);
            }
            catch (RuntimeException ex) {
                // Keep them for the next flush: the store may be back by then.
                events.forEach(e -> pending.add(fromMap(e)));
                log.warn("Could not store {} audit events, will retry: {}", events.size(), ex.getMessage());
                return;
            }
        }
    }

    private void recordRepeats() {
        for (RepeatedEvent key : repeats.keySet()) {
            Repeats counted = repeats.remove(key);
            if (counted != null) {
                Map<String, String> details = new LinkedHashMap<>(key.details());
                details.put("count", String.valueOf(counted.count()));
                details.put("first_at", counted.first().toString());
                AuditEvent event = new AuditEvent(newEventId(counted.last()), counted.last(), key.actor(), key.action(),
                        key.objectType(), key.objectId(), key.outcome(), null, details);
                pending.add(event);
                writeLine(event);
            }
        }
    }

    @PreDestroy
    void flushOnShutdown() {
        flush();
    }

    /**
     * A page of events, newest first, that match {@code filter} and are older than the event
     * {@code before} (all when {@code null}).
     */
    public List<AuditEvent> page(Predicate<AuditEvent> filter, String before, int limit) {
        flush();
        List<String> chunks = new ArrayList<>(store.list(SecretPath.of(StoreCollection.AUDIT)));
        chunks.sort(Comparator.reverseOrder());
        List<AuditEvent> page = new ArrayList<>();
        for (String chunk : chunks) {
            List<AuditEvent> events = new ArrayList<>();
            store.read(SecretPath.of(StoreCollection.AUDIT, chunk))
                .ifPresent(stored -> events.addAll(eventsOf(stored.document())));
            events.sort(Comparator.comparing(AuditEvent::id).reversed());
            for (AuditEvent event : events) {
                if ((before == null || event.id().compareTo(before) < 0) && filter.test(event)) {
                    page.add(event);
                    if (page.size() >= limit) {
                        return page;
                    }
                }
            }
        }
        return page;
    }

    @SuppressWarnings("unchecked")
    private static List<AuditEvent> eventsOf(SecretDocument document) {
        List<AuditEvent> events = new ArrayList<>();
        for (Object item : (List<Object>) document.data().getOrDefault("events", List.of())) {
            events.add(fromMap((Map<String, Object>) item));
        }
        return events;
    }

    private static Map<String, Object> toMap(AuditEvent event) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", event.id());
        map.put("at", event.at().toString());
        map.put("actor", event.actor());
        map.put("action", event.action());
        map.put("object_type", event.objectType());
        if (event.objectId() != null) {
            map.put("object_id", event.objectId());
        }
        map.put("outcome", event.outcome());
        if (event.requestId() != null) {
            map.put("request_id", event.requestId());
        }
        map.put("details", event.details());
        return map;
    }

    @SuppressWarnings("unchecked")
    private static AuditEvent fromMap(Map<String, Object> map) {
        Map<String, String> details = new HashMap<>();
        ((Map<String, Object>) map.getOrDefault("details", Map.of())).forEach((k, v) -> details.put(k, String.valueOf(v)));
        return new AuditEvent((String) map.get("id"), Instant.parse((String) map.get("at")), (String) map.get("actor"),
                (String) map.get("action"), (String) map.get("object_type"), (String) map.get("object_id"),
                (String) map.get("outcome"), (String) map.get("request_id"), details);
    }
}
