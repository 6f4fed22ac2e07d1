package dev.postern.broker.access;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.stereotype.Component;

/**
 * Failed authentications per source address and key prefix and minute, shared by API-key calls and
 * the admin sign-in. A key is always checked first, so a valid key is never refused because of
 * someone else's guesses: the count only turns a further failure from 401 into 429 with
 * {@code Retry-After}, which tells a misconfigured client to stop and slows a guesser down.
 */
@Component
class FailedAuthentications {

    /** How long failures are counted. */
    static final Duration WINDOW = Duration.ofMinutes(1);

    private final int maxFailures;

    private final Cache<String, AtomicInteger> failures = Caffeine.newBuilder()
        .expireAfterWrite(WINDOW)
        .maximumSize(100_000)
        .build();

    FailedAuthentications(AccessProperties properties) {
        this.maxFailures = properties.maxFailedAuthentications();
    }

    /**
     * Counts a failure of {@code key} from {@code source}; whether that pair is now over the limit.
     * Only the key's public prefix is kept, never the key.
     */
    boolean recordAndCheckLimit(String source, String key) {
        String pair = source + " " + ApiKeys.publicPrefix(key);
        return failures.get(pair, p -> new AtomicInteger()).incrementAndGet() > maxFailures;
    }
}
