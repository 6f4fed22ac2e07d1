package dev.postern.broker.audit;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.StoredDocument;

/**
 * Where the audit trail lies in the store, and how a page of it is read.
 * <p>
 * Chunks lie in hour buckets, {@code audit/d{yyyyMMdd}/h{HH}/chunk_{newest}_{oldest}_n{events}_{id}}
 * (UTC, times in epoch milliseconds), and a chunk never holds events of two hours. A page walks the
 * trail newest first and LISTs only what it reaches: the days, then the hours and chunks of the days
 * it reads into, then reads the chunks whose time span overlaps the page, as many at once as their
 * counts say the page needs. Its cost follows the page, not the length of the trail (a busy broker
 * writes several chunks a second), and is capped: a rare filter ends its page at a budget of store
 * calls with where the next one resumes. Chunks written before the buckets, directly in
 * {@code audit/}, are read in time order with the rest.
 */
final class AuditChunks {

    private static final SecretPath ROOT = SecretPath.of(StoreCollection.AUDIT);

    private static final long HOUR = 3_600_000;

    private static final long DAY = 24 * HOUR;

    private static final DateTimeFormatter DAY_NAME = DateTimeFormatter.ofPattern("'d'uuuuMMdd");

    private static final Pattern DAY_FOLDER = Pattern.compile("d\\d{8}");

    private static final Pattern HOUR_FOLDER = Pattern.compile("h([01]\\d|2[0-3])");

    /** {@code chunk_{newest}_{oldest}_n{events}_{id}}; older chunks lack the count, the oldest ones the oldest time too. */
    private static final Pattern CHUNK = Pattern.compile("chunk_(\\d{13})(?:_(\\d{13}))?(?:_n(\\d{1,6}))?_.*");

    /** The most chunks read in one go (in parallel): those that, by their event counts, fill the page. */
    private static final int READ_TOGETHER = 16;

    private AuditChunks() {
    }

    /** The start of the hour {@code at} falls in, in epoch milliseconds. */
    static long hourOf(Instant at) {
        return Math.floorDiv(at.toEpochMilli(), HOUR) * HOUR;
    }

    /**
     * The path for a new chunk of {@code events}, which all lie in one hour. The name carries the
     * newest and oldest event time, so a page reads only the chunks it overlaps, and the number of
     * events, so it reads at once those it needs.
     */
    static SecretPath newChunkPath(List<AuditEvent> events) {
        long newest = Long.MIN_VALUE;
        long oldest = Long.MAX_VALUE;
        for (AuditEvent event : events) {
            newest = Math.max(newest, event.at().toEpochMilli());
            oldest = Math.min(oldest, event.at().toEpochMilli());
        }
        var hour = Instant.ofEpochMilli(newest).atOffset(ZoneOffset.UTC);
        return SecretPath.of(StoreCollection.AUDIT, DAY_NAME.format(hour), "h%02d".formatted(hour.getHour()),
                "chunk_%013d_%013d_n%d_%s".formatted(Math.max(0, newest), Math.max(0, oldest), events.size(),
                        StoreIds.newId("c")));
    }

    private static final long NOT_A_DAY = Long.MIN_VALUE;

    /** The start of the day a day folder ({@code d20261206}) holds, or {@link #NOT_A_DAY} for any other name. */
    private static long dayStart(String folder) {
        if (!DAY_FOLDER.matcher(folder).matches()) {
            return NOT_A_DAY;
        }
        try {
            return LocalDate.parse(folder, DAY_NAME).toEpochDay() * DAY;
        }
        catch (DateTimeParseException ex) {
            return NOT_A_DAY; // not written by the broker (d20261399): not part of the trail
        }
    }

    /** A place in the trail a page may look into, with the times its events lie between. */
    private record Part(SecretPath path, Kind kind, long newest, long oldest, int events) {
    }

    private enum Kind {
        DAY, HOUR, CHUNK
    }

    private static final Comparator<Part> NEWEST_FIRST = Comparator.comparingLong(Part::newest).reversed()
        .thenComparing(part -> part.path().relative(), Comparator.reverseOrder());

    /**
     * A page of events, newest first, that match {@code filter}, lie in {@code [from, to)} and are
     * older than the event {@code before} ({@code null}: from the newest); at most {@code limit}.
     * A filter that matches few events reads on until the page is full, the range ends, or the page
     * has made {@code budget} store calls (LISTs and chunk reads): then it ends early with where the
     * next page resumes ({@link AuditPage#resumeBefore}), so no page costs more than its budget
     * whatever the length of the trail. {@code unwritten} are events not in the store yet, taken
     * into the page as if they were.
     */
    static AuditPage page(SecretStore store, List<AuditEvent> unwritten, Predicate<AuditEvent> filter,
            @Nullable Instant from, @Nullable Instant to, @Nullable String before, int limit, int budget) {
        Walk walk = new Walk(store, filter, from, to, before, limit, budget);
        unwritten.forEach(walk::offer);
        return walk.run();
    }

    /** One page's walk through the trail, newest first. */
    private static final class Walk {

        private final SecretStore store;

        private final Predicate<AuditEvent> matches;

        private final long upper;

        private final long lower;

        private final int limit;

        private final int budget;

        private final PriorityQueue<Part> parts = new PriorityQueue<>(NEWEST_FIRST);

        /** Newest id first; never more than limit kept, so the last is the oldest event the page holds. */
        private final TreeSet<AuditEvent> found = new TreeSet<>(Comparator.comparing(AuditEvent::id).reversed());

        private long eventsRead;

        private long eventsKept;

        private int storeCalls;

        /** Whether a part older than the cursor was looked into: each page gets at least that far. */
        private boolean progressed;

        Walk(SecretStore store, Predicate<AuditEvent> filter, @Nullable Instant from, @Nullable Instant to,
                @Nullable String before, int limit, int budget) {
            this.store = store;
            this.matches = event -> (before == null || event.id().compareTo(before) < 0)
                    && (from == null || !event.at().isBefore(from)) && (to == null || event.at().isBefore(to))
                    && filter.test(event);
            long upperBound = to == null ? Long.MAX_VALUE : to.toEpochMilli();
            if (before != null) {
                Matcher id = AuditLog.EVENT_ID.matcher(before);
                if (id.matches()) {
                    upperBound = Math.min(upperBound, Long.parseLong(id.group(1)));
                }
            }
            this.upper = upperBound;
            this.lower = from == null ? Long.MIN_VALUE : from.toEpochMilli();
            this.limit = limit;
            this.budget = budget;
        }

        AuditPage run() {
            SecretStore.Listing root = listing(ROOT);
            for (String day : root.folders()) {
                long start = dayStart(day);
                if (start != NOT_A_DAY) {
                    parts.add(new Part(ROOT.child(day), Kind.DAY, start + DAY - 1, start, 0));
                }
            }
            addChunks(parts, ROOT, root.documents());
            Part part;
            while ((part = parts.poll()) != null) {
                if (part.newest() < lower) {
                    break; // in newest-first order: nothing further reaches into the range
                }
                if (found.size() >= limit && part.newest() < found.last().at().toEpochMilli()) {
                    break; // everything further is older than the page's last event
                }
                if (part.oldest() > upper) {
                    continue; // all newer than the page
                }
                if (storeCalls >= budget && progressed) {
                    return endEarly(part);
                }
                progressed |= part.newest() < upper;
                switch (part.kind()) {
                    case DAY -> {
                        for (String hour : listing(part.path()).folders()) {
                            Matcher name = HOUR_FOLDER.matcher(hour);
                            if (name.matches()) {
                                long start = part.oldest() + Integer.parseInt(name.group(1)) * HOUR;
                                parts.add(new Part(part.path().child(hour), Kind.HOUR, start + HOUR - 1, start, 0));
                            }
                        }
                    }
                    case HOUR -> addChunks(parts, part.path(), listing(part.path()).documents());
                    case CHUNK -> readTogether(part);
                }
            }
            return new AuditPage(List.copyOf(found), null);
        }

        /**
         * The page as far as it got, before {@code next}: everything unread holds events up to
         * {@code next}'s newest time, so the page keeps only what is later and the next page resumes
         * there; events already read that are that old come again in the next page (a chunk's span can
         * reach past the chunks after it), none twice and none lost.
         */
        private AuditPage endEarly(Part next) {
            String resume = "evt_%013d_000000".formatted(Math.max(0, next.newest() + 1));
            List<AuditEvent> later = found.stream().filter(event -> event.id().compareTo(resume) >= 0).toList();
            return new AuditPage(later, resume);
        }

        /** Takes {@code event} into the page when it matches, keeping the newest {@code limit}. */
        void offer(AuditEvent event) {
            if (matches.test(event)) {
                found.add(event);
                if (found.size() > limit) {
                    found.pollLast();
                }
            }
        }

        private SecretStore.Listing listing(SecretPath folder) {
            storeCalls++;
            return store.listing(folder);
        }

        /**
         * Reads {@code first} and the chunks next in line that the page needs, by the event counts in
         * their names and the share of events read so far that the filters kept, in one go: small
         * chunks (a quiet broker flushes a few events a second) would otherwise cost a round trip each.
         */
        private void readTogether(Part first) {
            double kept = eventsRead == 0 ? 1 : Math.max(eventsKept, 1) / (double) eventsRead;
            List<Part> batch = new ArrayList<>(List.of(first));
            double expected = found.size() + first.events() * kept;
            while (expected < limit && batch.size() < READ_TOGETHER && parts.peek() != null
                    && parts.peek().kind() == Kind.CHUNK && parts.peek().newest() >= lower) {
                Part next = parts.poll();
                if (next.oldest() <= upper) {
                    batch.add(next);
                    expected += next.events() * kept;
                }
            }
            storeCalls += batch.size();
            for (Optional<StoredDocument> read : store.readAll(batch.stream().map(Part::path).toList())) {
                read.ifPresent(chunk -> {
                    for (AuditEvent event : eventsOf(chunk.document())) {
                        eventsRead++;
                        if (matches.test(event)) {
                            eventsKept++;
                        }
                        offer(event);
                    }
                });
            }
        }
    }

    private static void addChunks(PriorityQueue<Part> parts, SecretPath folder, List<String> names) {
        for (String name : names) {
            Matcher chunk = CHUNK.matcher(name);
            if (chunk.matches()) {
                // Chunks named before the oldest time was added to the name may hold anything older; one
                // named before the count may hold a page's worth.
                parts.add(new Part(folder.child(name), Kind.CHUNK, Long.parseLong(chunk.group(1)),
                        chunk.group(2) == null ? 0 : Long.parseLong(chunk.group(2)),
                        chunk.group(3) == null ? Integer.MAX_VALUE / 2 : Integer.parseInt(chunk.group(3))));
            }
        }
    }

    /** What a retention pass deleted in one day bucket ({@code d20261206}), or at the top level ({@code audit}). */
    record Deleted(String folder, int chunks) {
    }

    /**
     * Deletes the day buckets that end at or before {@code cutoff}, chunk by chunk (a store has no
     * folder delete), and the chunks at the top level whose newest event is before it. A day that
     * reaches past the cutoff stays whole, so the trail keeps at most a day more than asked.
     */
    static List<Deleted> deleteBefore(SecretStore store, Instant cutoff) {
        List<Deleted> deleted = new ArrayList<>();
        SecretStore.Listing root = store.listing(ROOT);
        for (String day : root.folders()) {
            long start = dayStart(day);
            if (start != NOT_A_DAY && start + DAY <= cutoff.toEpochMilli()) {
                int chunks = 0;
                SecretPath dayPath = ROOT.child(day);
                for (String hour : store.listing(dayPath).folders()) {
                    for (String chunk : store.list(dayPath.child(hour))) {
                        store.delete(dayPath.child(hour).child(chunk));
                        chunks++;
                    }
                }
                deleted.add(new Deleted(day, chunks));
            }
        }
        int topLevel = 0;
        for (String name : root.documents()) {
            Matcher chunk = CHUNK.matcher(name);
            if (chunk.matches() && Long.parseLong(chunk.group(1)) < cutoff.toEpochMilli()) {
                store.delete(ROOT.child(name));
                topLevel++;
            }
        }
        if (topLevel > 0) {
            deleted.add(new Deleted(ROOT.relative(), topLevel));
        }
        return deleted;
    }

    /** The stored form of a chunk. */
    static SecretDocument documentOf(List<AuditEvent> events) {
        List<Map<String, Object>> stored = new ArrayList<>(events.size());
        for (AuditEvent event : events) {
            stored.add(toMap(event));
        }
        return SecretDocument.of(Map.of("events", stored));
    }

    @SuppressWarnings("unchecked")
    private static List<AuditEvent> eventsOf(SecretDocument document) {
        List<AuditEvent> events = new ArrayList<>();
        for (Object item : (List<Object>) document.data().getOrDefault("events", List.of())) {
            events.add(fromMap((Map<String, Object>) item));
        }
        return events;
    }

    static Map<String, Object> toMap(AuditEvent event) {
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
