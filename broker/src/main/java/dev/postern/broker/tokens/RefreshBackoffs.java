package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.postern.broker.ApiException;
import dev.postern.broker.providers.ProviderException;

/**
 * Per mailbox, no provider call before a wait after a failed one: Retry-After when the provider
 * gave one, else jittered exponential backoff that grows with failures in a row.
 */
@Component
class RefreshBackoffs {

    private static final Logger log = LoggerFactory.getLogger(RefreshBackoffs.class);

    /** No provider call for this mailbox before {@code notBefore}; {@code failures} grows the wait. */
    private record Backoff(Instant notBefore, int failures) {
    }

    private final ConcurrentHashMap<String, Backoff> backoffs = new ConcurrentHashMap<>();

    private final JitteredBackoff policy;

    private final Clock clock;

    RefreshBackoffs(TokenProperties properties, Clock clock) {
        this.policy = new JitteredBackoff(properties.initialBackoff(), properties.maxBackoff());
        this.clock = clock;
    }

    /** @throws ApiException 503 {@code provider-unavailable} while {@code accountId} waits */
    void requireNone(String accountId) {
        Instant now = clock.instant();
        Backoff backoff = backoffs.get(accountId);
        if (backoff != null && backoff.notBefore().isAfter(now)) {
            throw TokenProblems.providerUnavailable(Duration.between(now, backoff.notBefore()));
        }
    }

    /** Records a failed provider call of {@code accountId}; returns how long to wait before the next. */
    Duration failed(String accountId, ProviderException failure) {
        Backoff previous = backoffs.get(accountId);
        int failures = previous == null ? 1 : previous.failures() + 1;
        Duration retryAfter = failure.retryAfter();
        Duration wait = retryAfter != null ? retryAfter : policy.after(failures, ThreadLocalRandom.current().nextDouble());
        backoffs.put(accountId, new Backoff(clock.instant().plus(wait), failures));
        // One line per failed call, so at most one per mailbox and wait: names the mailbox for operators.
        log.info("Account {}: identity provider call failed ({}), {} in a row; no call for {}", accountId, failure.error(),
                failures, wait);
        return wait;
    }

    void clear(String accountId) {
        backoffs.remove(accountId);
    }
}
