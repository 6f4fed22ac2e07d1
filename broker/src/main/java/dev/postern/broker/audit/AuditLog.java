package dev.postern.broker.audit;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import jakarta.annotation.PreDestroy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreRefusedException;

/**
 * The audit trail. Each event is written at once as one structured JSON line to the
 * {@code postern.audit} logger, and kept in the store in chunks of one hour's events
 * ({@link AuditChunks}: {@code audit/d{day}/h{hour}/{chunk}}) flushed every second, so issuing a
 * token never waits for a Vault write. A crash loses at most the last second of stored events; the
 * log lines have them. Days older than the retention are deleted by {@link AuditRetention}.
 * <p>
 * Routine repeats ({@link #recordRepeated}: a mail client fetching its cached token thousands of
 * times a second) are counted instead, and written at each flush as one event per actor, action,
 * object and outcome with the {@code count} and the first and last time: one line per second
 * rather than one per request, which was the largest cost of a cached token (see
 * docs/performance.md). A crash loses at most the last second of such counts.
 * <p>
 * A chunk the store refuses for good ({@link StoreRefusedException}: larger than Raft's 1 MiB entry,
 * say) is split in halves until the halves are stored; a single event still refused is dropped from
 * the store with an ERROR and {@code postern_audit_events_dropped_total{reason="refused"}} (its log
 * line was written). A store that cannot be reached keeps the events for the next flush, at most
 * {@link #MAX_PENDING_EVENTS}; beyond that the oldest are dropped from the store the same way
 * ({@code reason="backlog_full"}).
 */
@Service
public class AuditLog {

    private static final Logger auditLog = LoggerFactory.getLogger("postern.audit");

    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

    /** The request id of the current request in the log context (set by the web layer). */
    private static final String REQUEST_ID = "request_id";

    private static final int MAX_EVENTS_PER_CHUNK = 100;

    /**
     * Events kept in memory for the store at most, while it cannot be written: about 25 MB at 500
     * bytes an event, a minute of 800 logins a second.
     */
    static final int MAX_PENDING_EVENTS = 50_000;

    private final SecretStore store;

    private final Clock clock;

    private final JsonMapper json = JsonMapper.builder().build();

    /** Oldest first; a flush that could not write puts its events back at the head. */
    private final ConcurrentLinkedDeque<AuditEvent> pending = new ConcurrentLinkedDeque<>();

    // ConcurrentLinkedDeque.size() walks the deque: the count is kept beside it.
    private final AtomicInteger pendingCount = new AtomicInteger();

    /** Events dropped for a full backlog since the last flush reported them. */
    private final AtomicLong droppedForBacklog = new AtomicLong();

    private final Counter droppedRefused;

    private final Counter droppedBacklogFull;

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

    public AuditLog(SecretStore store, Clock clock, MeterRegistry meters) {
        this.store = store;
        this.clock = clock;
        this.droppedRefused = dropped(meters, "refused");
        this.droppedBacklogFull = dropped(meters, "backlog_full");
    }

    private static Counter dropped(MeterRegistry meters, String reason) {
        return Counter.builder("postern_audit_events_dropped_total")
            .description("Audit events not stored (their log line was written): refused by the store for good, or over the backlog while it was unreachable")
            .tag("reason", reason)
            .register(meters);
    }

    /** Records that {@code actor} did {@code action} on an object, with its outcome. */
    public AuditEvent record(String actor, String action, String objectType, String objectId, String outcome,
            Map<String, String> details) {
        Instant now = clock.instant();
        AuditEvent event = new AuditEvent(newEventId(now), now, actor, action, objectType, objectId, outcome,
                MDC.get(REQUEST_ID), details);
        keep(event);
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
        auditLog.info(json.writeValueAsString(Map.of("log_type", "audit", "event", AuditChunks.toMap(event))));
    }

    private String newEventId(Instant now) {
        // Time first and zero-padded, so ids sort by time; the sequence orders events of one millisecond.
        return "evt_%013d_%06d".formatted(now.toEpochMilli(), sequence.incrementAndGet() % 1_000_000);
    }

    /** Keeps {@code event} for the store; over {@link #MAX_PENDING_EVENTS}, the oldest kept one is dropped. */
    private void keep(AuditEvent event) {
        pending.addLast(event);
        pendingCount.incrementAndGet();
        dropOverBound();
    }

    /** Drops the oldest kept events while more than {@link #MAX_PENDING_EVENTS} are kept. */
    private void dropOverBound() {
        for (int kept = pendingCount.get(); kept > MAX_PENDING_EVENTS; kept = pendingCount.get()) {
            // One place given up per successful CAS, so racing callers do not drop more than the excess.
            if (pendingCount.compareAndSet(kept, kept - 1)) {
                if (pending.pollFirst() == null) {
                    pendingCount.incrementAndGet();
                    return;
                }
                droppedBacklogFull.increment();
                droppedForBacklog.incrementAndGet();
            }
        }
    }

    /** Writes pending events to the store in chunks of at most {@link #MAX_EVENTS_PER_CHUNK}, each of one hour. */
    @Scheduled(fixedDelayString = "${postern.audit.flush-interval:1s}") // AuditProperties checks the value
    public synchronized void flush() {
        recordRepeats();
        long overBacklog = droppedForBacklog.getAndSet(0);
        if (overBacklog > 0) {
            log.error("Dropped the {} oldest audit events kept for the store, which could not be written for a while "
                    + "(at most {} are kept); their audit log lines were written", overBacklog, MAX_PENDING_EVENTS);
        }
        while (pendingCount.get() > 0) {
            List<AuditEvent> chunk = new ArrayList<>();
            AuditEvent event;
            while (chunk.size() < MAX_EVENTS_PER_CHUNK && (event = pending.pollFirst()) != null) {
                if (!chunk.isEmpty() && AuditChunks.hourOf(event.at()) != AuditChunks.hourOf(chunk.getFirst().at())) {
                    pending.addFirst(event); // a chunk holds one hour's events: this one starts the next chunk
                    break;
                }
                pendingCount.decrementAndGet();
                chunk.add(event);
            }
            if (chunk.isEmpty()) {
                return;
            }
            Unwritten unwritten = write(chunk);
            if (unwritten != null) {
                // Back at the head, in order, for the next flush: the store may be back by then.
                for (AuditEvent kept : unwritten.events().reversed()) {
                    pending.addFirst(kept);
                    pendingCount.incrementAndGet();
                }
                // Events recorded during the failed write may have passed the bound meanwhile.
                dropOverBound();
                log.warn("Could not store audit events, {} kept for the next flush: {}", pendingCount.get(),
                        unwritten.failure().getMessage());
                return;
            }
        }
    }

    /** Events a failure worth retrying (the store unreachable, say) left unwritten. */
    private record Unwritten(List<AuditEvent> events, RuntimeException failure) {
    }

    /**
     * Stores {@code events}: as one chunk, or, when the store refuses a chunk for good, as its two
     * halves, down to single events, which are dropped. Returns what a failure worth retrying left
     * unwritten, or null when every event was stored or dropped.
     */
    private @Nullable Unwritten write(List<AuditEvent> events) {
        Deque<List<AuditEvent>> parts = new ArrayDeque<>();
        parts.push(events);
        while (!parts.isEmpty()) {
            List<AuditEvent> part = parts.pop();
            try {
                writeChunk(part);
            }
            catch (StoreRefusedException ex) {
                if (part.size() == 1) {
                    drop(part.getFirst(), ex);
                }
                else {
                    parts.push(part.subList(part.size() / 2, part.size()));
                    parts.push(part.subList(0, part.size() / 2));
                }
            }
            catch (RuntimeException ex) {
                List<AuditEvent> unwritten = new ArrayList<>(part);
                parts.forEach(unwritten::addAll);
                return new Unwritten(unwritten, ex);
            }
        }
        return null;
    }

    private void writeChunk(List<AuditEvent> events) {
        store.write(AuditChunks.newChunkPath(events), AuditChunks.documentOf(events), SecretStore.NEW);
    }

    /** An event the store refuses even alone: named in the log by id, action and object, never by its details. */
    private void drop(AuditEvent event, StoreRefusedException ex) {
        droppedRefused.increment();
        log.error("The store refused audit event {} ({} of {} {}) for good, so it is not stored; its audit log line "
                + "was written: {}", event.id(), event.action(), event.objectType(), event.objectId(), ex.getMessage());
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
                keep(event);
                writeLine(event);
            }
        }
    }

    @PreDestroy
    void flushOnShutdown() {
        flush();
    }

    /** What an audit event id looks like: {@code evt_}, its time in milliseconds and a sequence. */
    public static final Pattern EVENT_ID = Pattern.compile("evt_(\\d{13})_(\\d{6})");

    /**
     * The most store calls (LISTs and chunk reads) one page makes: a filter that matches few events
     * ends its page early with where the next one resumes, rather than read the whole trail.
     */
    static final int STORE_CALLS_PER_PAGE = 200;

    /**
     * A page of events, newest first, that match {@code filter}, lie in {@code [from, to)} and are
     * older than the event {@code before} ({@code null}: from the newest). Reads only the buckets and
     * chunks the page reaches, at most {@link #STORE_CALLS_PER_PAGE} store calls ({@link AuditChunks}),
     * and writes nothing: what this replica recorded and has not flushed yet is taken from memory.
     */
    public AuditPage page(Predicate<AuditEvent> filter, @Nullable Instant from, @Nullable Instant to,
            @Nullable String before, int limit) {
        List<AuditEvent> unwritten;
        synchronized (this) {
            // Under flush's lock: no flush is half done, so each event is in the store or in memory, and
            // one flushed after this copy is both, which the page keeps once.
            recordRepeats();
            unwritten = List.copyOf(pending);
        }
        return AuditChunks.page(store, unwritten, filter, from, to, before, limit, STORE_CALLS_PER_PAGE);
    }
}
