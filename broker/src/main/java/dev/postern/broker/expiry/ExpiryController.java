package dev.postern.broker.expiry;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.http.HttpServletRequest;

import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.Role;
import dev.postern.broker.access.Actors;
import dev.postern.broker.expiry.AlertStateRepository.AppAlerts;
import dev.postern.broker.expiry.AlertStateRepository.FiredObject;
import dev.postern.broker.web.Paging;

/** Every watched credential and mailbox with its expiry and state as of the last scan, soonest first, paged. */
@RestController
@RequestMapping("/v1/expiry")
class ExpiryController {

    private final ExpiryScanner scanner;

    private final FailedNotifications failures;

    private final List<AppCredentialSource> appSources;

    ExpiryController(ExpiryScanner scanner, FailedNotifications failures, List<AppCredentialSource> appSources) {
        this.scanner = scanner;
        this.failures = failures;
        this.appSources = appSources;
    }

    /**
     * One watched object.
     *
     * @param kind {@code client_secret}, {@code certificate} or {@code mailbox}
     * @param id its id
     * @param appId its app
     * @param appName its app's name as of the scan, {@code null} for an app the scan did not see
     * @param label a human name
     * @param expiresAt when it expires
     * @param daysLeft whole days left, negative once expired
     * @param state {@code ok}, {@code warning}, {@code expired} or {@code reauth_required}
     * @param usage {@code in_use}, {@code standby}, {@code superseded} or {@code reauth_required}
     * @param managed {@code false} when found only in Entra ID
     * @param firedThresholds the alerts already sent for it
     * @param incidentId the app's open incident, or {@code null}
     * @param reconnectUrl a mailbox's reconnect link, for an admin only (a monitor sees the
     *        {@code reauth_required} state, not the link: it is a bearer capability), else {@code null}
     */
    record Item(String kind, String id, String appId, @Nullable String appName, String label, Instant expiresAt,
            long daysLeft, String state, String usage, boolean managed, List<String> firedThresholds, @Nullable String incidentId,
            @Nullable URI reconnectUrl) {
    }

    /**
     * The answer: a page of the last scan's objects.
     *
     * @param evaluatedAt when the last scan judged them, {@code null} before the first scan
     * @param counts objects per state over the whole scan, not just this page
     * @param timeline per day (UTC) from the scan's day through {@value ExpirySummary#TIMELINE_DAYS} days later,
     *        how many watched objects of each kind that are neither expired nor waiting for
     *        their owner expire on it, over the whole scan; days with none are left out
     * @param items this page, soonest first
     * @param nextCursor the cursor of the next page, {@code null} on the last
     * @param failedNotifications notifications given up after every try, oldest first
     * @param discoveryErrors the last Graph discovery failure per app id
     */
    record ExpiryView(@Nullable Instant evaluatedAt, Map<String, Integer> counts, List<ExpirySummary.Day> timeline, List<Item> items,
            @Nullable String nextCursor, List<FailedNotifications.Failure> failedNotifications,
            Map<String, String> discoveryErrors) {
    }


    /** A position in the scan's order: expiry time in milliseconds, app id, object id. */
    private static final Pattern POSITION = Pattern.compile("(-?\\d{1,19})\\|([^|]{1,200})\\|(.{1,200})");

    /**
     * A page of what the last scan saw (see {@link ExpiryScanner#lastScan()}): reading it never
     * starts a scan nor reads the store beyond the alert states of the page's apps.
     */
    @GetMapping
    ExpiryView list(@Parameter(description = Paging.LIMIT_DESCRIPTION, schema = @Schema(type = "integer", minimum = "1", maximum = "500", defaultValue = "100")) @RequestParam(required = false) @Nullable Integer limit,
            @Parameter(description = Paging.CURSOR_DESCRIPTION) @RequestParam(required = false) @Nullable String cursor, HttpServletRequest request) {
        int size = Paging.limit(limit);
        String after = Paging.position("expiry", cursor, position -> POSITION.matcher(position).matches());
        boolean admin = Actors.principal(request).role() == Role.ADMIN;
        Map<String, String> discoveryErrors = new TreeMap<>();
        appSources.forEach(source -> discoveryErrors.putAll(source.discoveryErrors()));
        Optional<ExpiryScanner.Snapshot> last = scanner.lastScan();
        if (last.isEmpty()) {
            return new ExpiryView(null, ExpirySummary.EMPTY.counts(), ExpirySummary.EMPTY.timeline(), List.of(), null,
                    failures.list(), discoveryErrors);
        }
        List<ObjectExpiry> objects = last.get().objects();
        ExpirySummary summary = last.get().summary();
        int start = 0;
        if (after != null) {
            Matcher position = POSITION.matcher(after);
            position.matches();
            Key key = new Key(Long.parseLong(position.group(1)), position.group(2), position.group(3));
            start = firstAfter(objects, key);
        }
        List<ObjectExpiry> page = objects.subList(start, Math.min(objects.size(), start + size));
        Set<String> appIds = new TreeSet<>();
        page.forEach(o -> appIds.add(o.object().appId()));
        Map<String, AppAlerts> alerts = scanner.alertStates(appIds);
        List<Item> items = new ArrayList<>();
        for (ObjectExpiry expiry : page) {
            ExpiringObject object = expiry.object();
            AppAlerts appAlerts = alerts.get(object.appId());
            FiredObject fired = appAlerts == null ? null : appAlerts.objects().get(object.id());
            items.add(new Item(object.kind().value(), object.id(), object.appId(), appName(object.appId()), object.label(), object.expiresAt(),
                    expiry.daysLeft(), expiry.state().value(), object.hint().name().toLowerCase(Locale.ROOT),
                    object.managed(), fired == null ? List.of() : List.copyOf(fired.fired()),
                    appAlerts == null ? null : appAlerts.incidentId(), admin ? object.reconnectUrl() : null));
        }
        String next = start + size < objects.size() ? Paging.cursor("expiry", Key.of(page.getLast()).position()) : null;
        return new ExpiryView(last.get().at(), summary.counts(), summary.timeline(), items, next, failures.list(), discoveryErrors);
    }

    private @Nullable String appName(String appId) {
        for (AppCredentialSource source : appSources) {
            String name = source.appName(appId);
            if (name != null) {
                return name;
            }
        }
        return null;
    }

    /** The index of the first object after {@code key} in the scan's order: a binary search, no copy of the list. */
    private static int firstAfter(List<ObjectExpiry> objects, Key key) {
        int low = 0;
        int high = objects.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (Key.of(objects.get(mid)).compareTo(key) <= 0) {
                low = mid + 1;
            }
            else {
                high = mid;
            }
        }
        return low;
    }

    /** The scan's sort key (see ExpiryScanner's order: expiry, app, id). */
    private record Key(long expiresAt, String appId, String id) implements Comparable<Key> {

        static Key of(ObjectExpiry expiry) {
            return new Key(expiry.object().expiresAt().toEpochMilli(), expiry.object().appId(), expiry.object().id());
        }

        String position() {
            return expiresAt + "|" + appId + "|" + id;
        }

        @Override
        public int compareTo(Key other) {
            int byTime = Long.compare(expiresAt, other.expiresAt);
            if (byTime != 0) {
                return byTime;
            }
            int byApp = appId.compareTo(other.appId);
            return byApp != 0 ? byApp : id.compareTo(other.id);
        }
    }
}
