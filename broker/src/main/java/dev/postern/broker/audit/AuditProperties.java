package dev.postern.broker.audit;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The audit trail ({@code postern.audit.*}).
 *
 * @param flushInterval how often recorded events are written to the store; the default is 1 second
 * @param retention how long the store keeps events, in whole days (a day is deleted once all of it
 *        is older); the default is 365 days, {@code 0} keeps them for ever. The {@code postern.audit}
 *        log lines are not touched: keep them as long as the log store does
 * @param retentionInterval how often days past the retention are looked for; the default is 6 hours
 */
@ConfigurationProperties("postern.audit")
public record AuditProperties(@DefaultValue("1s") Duration flushInterval, @DefaultValue("365d") Duration retention,
        @DefaultValue("6h") Duration retentionInterval) {

    public AuditProperties {
        if (flushInterval.isNegative() || flushInterval.isZero()) {
            throw new IllegalArgumentException("postern.audit.flush-interval must be positive");
        }
        if (retention.isNegative() || (!retention.isZero() && retention.compareTo(Duration.ofDays(1)) < 0)) {
            throw new IllegalArgumentException("postern.audit.retention must be 0 (keep for ever) or at least 1d");
        }
        if (retentionInterval.isNegative() || retentionInterval.isZero()) {
            throw new IllegalArgumentException("postern.audit.retention-interval must be positive");
        }
    }
}
