package dev.postern.broker.expiry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The expiry metrics: {@code postern_credential_expiry_timestamp_seconds{app,credential,type}} for
 * the apps' credentials (one series each), {@code postern_account_status{app,status}} (mailboxes
 * counted per app and state, never one series per mailbox), {@code postern_alerts_total{kind}},
 * {@code postern_notifications_failed_total{notifier}} and {@code postern_expiry_scan_seconds} (how
 * long each full scan took, its sources' reads included). Labels carry ids and kinds only.
 */
public class ExpiryMetrics {

    private final MeterRegistry registry;

    private final MultiGauge expiryTimestamps;

    private final MultiGauge accountStatus;

    private final Timer scans;

    public ExpiryMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.expiryTimestamps = MultiGauge.builder("postern.credential.expiry.timestamp.seconds")
            .description("When each watched app credential expires, in Unix seconds (mailboxes: postern.account.status)")
            .register(registry);
        this.accountStatus = MultiGauge.builder("postern.account.status")
            .description("Mailboxes per app by expiry state (ok, warning, expired, reauth_required)")
            .register(registry);
        this.scans = Timer.builder("postern.expiry.scan")
            .description("How long one full expiry scan took: reading its sources, judging, alerting")
            .register(registry);
    }

    /** Records how long one full scan took. */
    public void scanned(Duration took) {
        scans.record(took);
    }

    /** Replaces the gauges with what {@code snapshot} saw; objects that are gone disappear. */
    public void update(ExpiryScanner.Snapshot snapshot) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        Map<String, Map<String, Integer>> accounts = new TreeMap<>();
        for (ObjectExpiry expiry : snapshot.objects()) {
            ExpiringObject object = expiry.object();
            if (object.kind() == ExpiringObject.Kind.MAILBOX) {
                // Counted per app and state, not one series each: at 30,000 mailboxes the per-object gauge
                // had 33,000 series and a 4.7 MB scrape (docs/performance.md). Their alerts come from the
                // scan (webhook, mail) and from postern_account_status.
                accounts.computeIfAbsent(object.appId(), app -> new TreeMap<>()).merge(expiry.state().value(), 1, Integer::sum);
                continue;
            }
            if (!expiry.isWatched()) {
                continue; // a superseded credential may expire in peace
            }
            rows.add(MultiGauge.Row.of(Tags.of("app", object.appId(), "credential", object.id(), "type",
                    object.kind().value()), object.expiresAt().getEpochSecond()));
        }
        expiryTimestamps.register(rows, true);
        List<MultiGauge.Row<?>> statusRows = new ArrayList<>();
        accounts.forEach((app, counts) -> counts.forEach((status, count) -> statusRows
            .add(MultiGauge.Row.of(Tags.of("app", app, "status", status), count))));
        accountStatus.register(statusRows, true);
    }

    /** Counts one object alert: {@code expiring}, {@code expired}, {@code reauth_required} or {@code resolved}. */
    public void alertFired(String kind) {
        Counter.builder("postern.alerts").description("Expiry alerts per object, by kind").tag("kind", kind)
            .register(registry)
            .increment();
    }

    /** Counts one notification given up after its last try. */
    public void notificationFailed(String notifier) {
        Counter.builder("postern.notifications.failed")
            .description("Expiry notifications that failed after every try, by notifier")
            .tag("notifier", notifier)
            .register(registry)
            .increment();
    }
}
