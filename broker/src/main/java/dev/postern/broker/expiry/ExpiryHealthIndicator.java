package dev.postern.broker.expiry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code expiry} health indicator: DOWN while something in use (an active credential, a
 * connected mailbox) has expired or needs reconnecting at the last expiry scan, UP otherwise, with
 * the objects inside the warning window in its details (shown to the monitor and admin roles only).
 */
public class ExpiryHealthIndicator extends AbstractHealthIndicator {

    private final ExpiryScanner scanner;

    public ExpiryHealthIndicator(ExpiryScanner scanner) {
        super("Expiry check failed");
        this.scanner = scanner;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        // The last scan's result: a health call never reads the store, however many objects there are.
        Optional<ExpiryScanner.Snapshot> last = scanner.lastScan();
        if (last.isEmpty()) {
            builder.unknown().withDetail("reason", "no expiry scan has finished yet");
            return;
        }
        ExpiryScanner.Snapshot snapshot = last.get();
        List<Map<String, Object>> outages = new ArrayList<>();
        List<Map<String, Object>> warnings = new ArrayList<>();
        for (ObjectExpiry expiry : snapshot.objects()) {
            if (expiry.isOutage()) {
                outages.add(detail(expiry));
            }
            else if (expiry.isWatched() && expiry.state() != ExpiryState.OK) {
                warnings.add(detail(expiry));
            }
        }
        (outages.isEmpty() ? builder.up() : builder.down()).withDetail("expired_in_use", outages)
            .withDetail("warnings", warnings);
        if (!snapshot.failedSources().isEmpty()) {
            builder.withDetail("failed_sources", snapshot.failedSources());
        }
    }

    private static Map<String, Object> detail(ObjectExpiry expiry) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("app_id", expiry.object().appId());
        detail.put("kind", expiry.object().kind().value());
        detail.put("id", expiry.object().id());
        detail.put("expires_at", expiry.object().expiresAt().toString());
        detail.put("days_left", expiry.daysLeft());
        detail.put("state", expiry.state().value());
        return detail;
    }
}
