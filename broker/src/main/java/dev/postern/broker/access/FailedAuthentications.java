package dev.postern.broker.access;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.stereotype.Component;

/**
 * Failed authentications per source address and minute, shared by API-key calls and the admin
 * sign-in so that neither is a way around the other's limit.
 */
@Component
class FailedAuthentications {

    /** How long a source address is counted, and refused once over the limit. */
    static final Duration WINDOW = Duration.ofMinutes(1);

    private final int maxFailures;

    private final Cache<String, AtomicInteger> failures = Caffeine.newBuilder()
        .expireAfterWrite(WINDOW)
        .maximumSize(100_000)
        .build();

    FailedAuthentications(AccessProperties properties) {
        this.maxFailures = properties.maxFailedAuthentications();
    }

    /** Whether {@code source} has failed too often to be heard now. */
    boolean isLimited(String source) {
        AtomicInteger failed = failures.getIfPresent(source);
        return failed != null && failed.get() >= maxFailures;
    }

    void record(String source) {
        failures.get(source, s -> new AtomicInteger()).incrementAndGet();
    }
}
