package dev.postern.broker.expiry;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Expiry tracking ({@code postern.expiry.*}).
 *
 * @param scanInterval how often the scan runs (it also runs at start-up); the default is 1 hour.
 *        With several replicas one of them alerts per interval: it holds the lease
 *        {@code leases/expiry-scan} that long
 * @param thresholds how long before expiry an alert fires, each once per object; the default is
 *        30, 14, 7 and 1 days. The first one is also the warning window of the health check
 * @param graphBaseUrl Microsoft Graph's address; the default is {@code https://graph.microsoft.com}
 * @param graphDiscovery reading the real credential end dates of Microsoft apps from Graph
 * @param webhook the signed webhook notifier
 * @param mail the e-mail notifier
 */
@ConfigurationProperties("postern.expiry")
public record ExpiryProperties(@DefaultValue("1h") Duration scanInterval,
        @DefaultValue({ "30d", "14d", "7d", "1d" }) List<Duration> thresholds,
        @DefaultValue("https://graph.microsoft.com") URI graphBaseUrl, @DefaultValue GraphDiscovery graphDiscovery,
        @DefaultValue Webhook webhook, @DefaultValue Mail mail) {

    public ExpiryProperties {
        if (scanInterval.isNegative() || scanInterval.isZero()) {
            throw new IllegalArgumentException("postern.expiry.scan-interval must be positive");
        }
        if (thresholds.isEmpty() || thresholds.stream().anyMatch(t -> t.isNegative() || t.isZero())) {
            throw new IllegalArgumentException("postern.expiry.thresholds must be one or more positive durations");
        }
        // Longest first: the scan walks them from the earliest warning to the last one.
        thresholds = thresholds.stream().distinct().sorted(java.util.Comparator.reverseOrder()).toList();
    }

    /** The longest threshold: an object closer to expiry than this is in the warning window. */
    public Duration warningWindow() {
        return thresholds.getFirst();
    }

    /**
     * Graph discovery ({@code postern.expiry.graph-discovery.*}).
     *
     * @param enabled whether Microsoft apps are read from Graph; the default is {@code false}
     *        because it needs the Graph permission {@code Application.Read.All}
     * @param apps the app ids to read; the default, empty, means every Microsoft app
     * @param cacheTtl how long one app's Graph answer is reused; the default is 15 minutes
     * @param timeout how long one Graph read may take (its token is asked within
     *        {@code postern.providers.timeout}); the default is 10 seconds
     */
    public record GraphDiscovery(@DefaultValue("false") boolean enabled, @DefaultValue Set<String> apps,
            @DefaultValue("15m") Duration cacheTtl, @DefaultValue("10s") Duration timeout) {

        /** Whether the app {@code appId} is to be read from Graph. */
        public boolean appliesTo(String appId) {
            return enabled && (apps.isEmpty() || apps.contains(appId));
        }
    }

    /**
     * The webhook notifier ({@code postern.expiry.webhook.*}); off while {@code url} is unset.
     *
     * @param url where alerts are posted
     * @param secret the signing secret, {@code whsec_} followed by base64, as Standard Webhooks
     *        defines it
     * @param maxAttempts how often one message is tried before it is recorded as failed; the
     *        default is 5
     * @param initialBackoff the wait after the first failed try, doubled after each further one;
     *        the default is 2 seconds
     * @param timeout how long one try may take; the default is 10 seconds
     */
    public record Webhook(@Nullable URI url, @Nullable String secret, @DefaultValue("5") int maxAttempts,
            @DefaultValue("2s") Duration initialBackoff, @DefaultValue("10s") Duration timeout) {

        public Webhook {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("postern.expiry.webhook.max-attempts must be at least 1");
            }
        }

        @Override
        public String toString() {
            return "Webhook[url=" + url + ", secret=" + (secret == null ? "unset" : "(redacted)") + ", maxAttempts="
                    + maxAttempts + ", initialBackoff=" + initialBackoff + ", timeout=" + timeout + "]";
        }
    }

    /**
     * The e-mail notifier ({@code postern.expiry.mail.*}); off while {@code to} is empty. The
     * SMTP server is Spring Boot's {@code spring.mail.*}.
     *
     * @param to the recipients
     * @param from the sender; the default is {@code postern@localhost}
     * @param subjectPrefix put before every subject; the default is {@code [Postern]}
     */
    public record Mail(@DefaultValue List<String> to, @DefaultValue("postern@localhost") String from,
            @DefaultValue("[Postern]") String subjectPrefix) {
    }
}
