package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * One circuit breaker per provider token endpoint, shared by all its mailboxes: after
 * {@code postern.tokens.circuit-failure-threshold} consecutive failures (429, 5xx, timeouts) the
 * endpoint gets no call for {@code postern.tokens.circuit-cool-down}, so a provider outage costs
 * one call per cool-down instead of one per mailbox and backoff step. Then one trial call goes
 * through (half open); its success closes the circuit, its failure opens it again.
 */
@Component
class ProviderCircuits {

    private static final Logger log = LoggerFactory.getLogger(ProviderCircuits.class);

    private final ConcurrentHashMap<String, Circuit> circuits = new ConcurrentHashMap<>();

    private final Clock clock;

    private final TokenProperties properties;

    private static final class Circuit {

        int failures;

        @Nullable Instant openUntil;

        boolean trialInFlight;
    }

    ProviderCircuits(Clock clock, TokenProperties properties) {
        this.clock = clock;
        this.properties = properties;
    }

    /** {@code null} when a call to {@code endpoint} may go ahead now, else how long to wait. */
    @Nullable Duration refuse(String endpoint) {
        Circuit circuit = circuits.computeIfAbsent(endpoint, key -> new Circuit());
        synchronized (circuit) {
            if (circuit.openUntil == null) {
                return null;
            }
            Instant now = clock.instant();
            if (now.isBefore(circuit.openUntil)) {
                return Duration.between(now, circuit.openUntil);
            }
            if (circuit.trialInFlight) {
                return Duration.ofSeconds(1);
            }
            circuit.trialInFlight = true;
            return null;
        }
    }

    /** The endpoint answered (a token or an OAuth error that is not about its availability). */
    void answered(String endpoint) {
        Circuit circuit = circuits.computeIfAbsent(endpoint, key -> new Circuit());
        synchronized (circuit) {
            if (circuit.openUntil != null) {
                log.info("Provider endpoint {} answers again: circuit closed", endpoint);
            }
            circuit.failures = 0;
            circuit.openUntil = null;
            circuit.trialInFlight = false;
        }
    }

    /** The endpoint failed: 429, 5xx, timeout or unreachable. */
    void failed(String endpoint) {
        Circuit circuit = circuits.computeIfAbsent(endpoint, key -> new Circuit());
        synchronized (circuit) {
            circuit.failures++;
            if (circuit.trialInFlight || circuit.failures >= properties.circuitFailureThreshold()) {
                circuit.openUntil = clock.instant().plus(properties.circuitCoolDown());
                circuit.trialInFlight = false;
                log.warn("Provider endpoint {} failed {} times in a row: circuit open for {}", endpoint,
                        circuit.failures, properties.circuitCoolDown());
            }
        }
    }

    /** A call that ended without a verdict on the endpoint (a store failure after it): let the next trial go. */
    void abandoned(String endpoint) {
        Circuit circuit = circuits.get(endpoint);
        if (circuit != null) {
            synchronized (circuit) {
                circuit.trialInFlight = false;
            }
        }
    }
}
