package dev.postern.broker.expiry;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What every page of {@code /v1/expiry} shows alike for one scan: the objects per state and the
 * timeline. Each is a walk over every object (110,000 at 100,000 mailboxes), so the scan computes
 * them once, and a page costs only its own objects.
 *
 * @param counts objects per state, every state named (in {@link ExpiryState}'s order)
 * @param timeline per day (UTC) from the scan's day through {@value #TIMELINE_DAYS} days later, how
 *        many watched objects of each kind that are neither expired nor waiting for their owner
 *        expire on it; days with none are left out
 */
record ExpirySummary(Map<String, Integer> counts, List<Day> timeline) {

    /** How far ahead the timeline reaches: the horizon a security team plans rotations over. */
    static final int TIMELINE_DAYS = 90;

    /** Nothing scanned yet. */
    static final ExpirySummary EMPTY = of(List.of(), Instant.EPOCH);

    /**
     * One day of the timeline.
     *
     * @param date the day, in UTC
     * @param counts how many objects expire on it, per kind ({@code client_secret},
     *        {@code certificate}, {@code mailbox}; kinds with none are left out)
     */
    record Day(LocalDate date, Map<String, Integer> counts) {
    }

    /** The summary of {@code objects}, sorted soonest first, as judged at {@code at}. */
    static ExpirySummary of(List<ObjectExpiry> objects, Instant at) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ExpiryState state : ExpiryState.values()) {
            counts.put(state.value(), 0);
        }
        objects.forEach(o -> counts.merge(o.state().value(), 1, Integer::sum));
        return new ExpirySummary(Collections.unmodifiableMap(counts), timeline(objects, at));
    }

    /** Counts per day and kind; the objects are sorted soonest first, so the walk stops at the horizon. */
    private static List<Day> timeline(List<ObjectExpiry> objects, Instant at) {
        LocalDate today = LocalDate.ofInstant(at, ZoneOffset.UTC);
        LocalDate horizon = today.plusDays(TIMELINE_DAYS);
        Map<LocalDate, Map<String, Integer>> days = new TreeMap<>();
        for (ObjectExpiry expiry : objects) {
            LocalDate day = LocalDate.ofInstant(expiry.object().expiresAt(), ZoneOffset.UTC);
            if (day.isAfter(horizon)) {
                break;
            }
            if (expiry.isWatched() && (expiry.state() == ExpiryState.OK || expiry.state() == ExpiryState.WARNING)) {
                days.computeIfAbsent(day, d -> new TreeMap<>()).merge(expiry.object().kind().value(), 1, Integer::sum);
            }
        }
        List<Day> timeline = new ArrayList<>();
        days.forEach((day, counts) -> timeline.add(new Day(day, Collections.unmodifiableMap(counts))));
        return List.copyOf(timeline);
    }
}
