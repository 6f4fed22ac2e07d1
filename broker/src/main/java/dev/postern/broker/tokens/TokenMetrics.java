package dev.postern.broker.tokens;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Component;

import dev.postern.broker.providers.ProviderKind;

/** The token path's meters: requests by outcome, provider refresh time, provider errors. */
@Component
class TokenMetrics {

    private final MeterRegistry meters;

    private final Timer refreshTimer;

    private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();

    TokenMetrics(MeterRegistry meters) {
        this.meters = meters;
        this.refreshTimer = Timer.builder("postern_token_refresh_seconds")
            .description("Time to refresh a mailbox's access token at its identity provider")
            .publishPercentiles(0.5, 0.99)
            .register(meters);
    }

    /** Counts a token request's outcome: cache, refresh, denied, error, circuit-open. */
    void request(String outcome) {
        // Looked up once per outcome: this runs on every token request, a cached one included.
        requests.computeIfAbsent(outcome, o -> meters.counter("postern_token_requests_total", "outcome", o)).increment();
    }

    Timer.Sample startProviderCall() {
        return Timer.start(meters);
    }

    void providerCallEnded(Timer.Sample sample) {
        sample.stop(refreshTimer);
    }

    void providerError(ProviderKind provider, String error) {
        meters.counter("postern_idp_errors_total", "provider", provider.name().toLowerCase(Locale.ROOT), "error", error)
            .increment();
    }
}
