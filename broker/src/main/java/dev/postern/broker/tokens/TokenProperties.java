package dev.postern.broker.tokens;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Token issuing ({@code postern.tokens.*}).
 *
 * @param defaultMinTtl the remaining lifetime a token must have when a request does not say;
 *        the default is 5 minutes
 * @param refreshAhead a token in use is refreshed in the background this long before it
 *        expires; the default is 10 minutes
 * @param inUseWindow a token counts as in use when it was handed out within this time; the
 *        default is 15 minutes
 * @param leaseDuration how long one replica may hold a mailbox's refresh lease; the default is
 *        20 seconds
 * @param initialBackoff the longest wait after a first provider failure without Retry-After
 *        (429, 5xx, timeouts); it doubles with each further failure in a row, and each wait is
 *        drawn between half of it and all of it; the default is 1 second
 * @param maxBackoff the longest wait after a provider failure without Retry-After; the default
 *        is 60 seconds
 * @param keepAliveAfter a mailbox not refreshed for this long is refreshed to keep its refresh
 *        token alive; the default is 30 days
 * @param circuitFailureThreshold consecutive failures (429, 5xx, timeouts) of one provider token
 *        endpoint, across mailboxes, that open its circuit; the default is 5
 * @param circuitCoolDown how long an open circuit makes no call before one trial call; the
 *        default is 30 seconds
 * @param keepAliveSpread the keep-alive refreshes found due by one check are spread evenly over
 *        this time, so that many due at once never reach a provider as one burst; the default is 1 hour
 * @param backgroundRefreshesPerApp the most provider calls that background refreshes (refresh
 *        ahead, keep-alive) make at once for one app: Microsoft limits requests per app and
 *        tenant; the default is 4
 */
@ConfigurationProperties("postern.tokens")
public record TokenProperties(@DefaultValue("5m") Duration defaultMinTtl, @DefaultValue("10m") Duration refreshAhead,
        @DefaultValue("15m") Duration inUseWindow, @DefaultValue("20s") Duration leaseDuration,
        @DefaultValue("1s") Duration initialBackoff, @DefaultValue("60s") Duration maxBackoff, @DefaultValue("30d") Duration keepAliveAfter,
        @DefaultValue("5") int circuitFailureThreshold, @DefaultValue("30s") Duration circuitCoolDown,
        @DefaultValue("1h") Duration keepAliveSpread, @DefaultValue("4") int backgroundRefreshesPerApp) {

    public TokenProperties {
        if (backgroundRefreshesPerApp < 1) {
            throw new IllegalArgumentException("postern.tokens.background-refreshes-per-app must be at least 1");
        }
    }
}
