package dev.postern.broker.access;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.stereotype.Component;

/**
 * Failed authentications per minute, shared by API-key calls, the admin sign-in and the connect
 * flow's public pages, counted two ways:
 * <ul>
 * <li>per source address and key prefix: a key is always checked first, so a valid key is never
 * refused because of someone else's guesses; the count only turns a further failure from 401 into
 * 429 with {@code Retry-After}, which tells a misconfigured client to stop and slows a guesser down;
 * <li>per source address, whatever the keys: a guesser that sends a new key (a new prefix) each time
 * escapes the first count, and each unknown key costs a store read, as does each connect link
 * secret or callback state that names no link ({@link #recordUnknownCapability}). Over
 * {@code max-failed-authentications-per-address}, that address's keys are refused unchecked for the
 * rest of the minute, except keys that authenticated on this replica within a day
 * ({@link ApiClientService#authenticatedRecently}): a client in use is not locked out. The connect
 * pages are refused too, links in use included: an owner behind the guesser's address waits a minute.
 * </ul>
 */
@Component
public class FailedAuthentications {

    /** How long failures are counted. */
    public static final Duration WINDOW = Duration.ofMinutes(1);

    private final int maxFailures;

    private final int maxFailuresPerAddress;

    private final Cache<String, AtomicInteger> failuresByAddress = Caffeine.newBuilder()
        .expireAfterWrite(WINDOW)
        .maximumSize(100_000)
        .build();

    private final Cache<String, AtomicInteger> failures = Caffeine.newBuilder()
        .expireAfterWrite(WINDOW)
        .maximumSize(100_000)
        .build();

    FailedAuthentications(AccessProperties properties) {
        this.maxFailures = properties.maxFailedAuthentications();
        this.maxFailuresPerAddress = properties.maxFailedAuthenticationsPerAddress();
    }

    /**
     * Counts a failure of {@code key} from {@code source}; whether that pair is now over the limit.
     * Only the key's public prefix is kept, never the key.
     */
    boolean recordAndCheckLimit(String source, String key) {
        failuresByAddress.get(source, address -> new AtomicInteger()).incrementAndGet();
        String pair = source + " " + ApiKeys.publicPrefix(key);
        return failures.get(pair, p -> new AtomicInteger()).incrementAndGet() > maxFailures;
    }

    /**
     * Counts a failure from {@code source} that names no key: a connect link secret or a callback
     * state that names no link, which a guesser sends and each of which costs a store read.
     */
    public void recordUnknownCapability(String source) {
        failuresByAddress.get(source, address -> new AtomicInteger()).incrementAndGet();
    }

    /** Whether {@code source} has failed {@code max-failed-authentications-per-address} times this minute. */
    public boolean addressOverLimit(String source) {
        AtomicInteger failed = failuresByAddress.getIfPresent(source);
        return failed != null && failed.get() >= maxFailuresPerAddress;
    }
}
