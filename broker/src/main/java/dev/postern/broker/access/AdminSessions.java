package dev.postern.broker.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Service;

/**
 * Sessions of the admin web app, in memory: a signed-in browser holds a random 256-bit id in a
 * cookie instead of the admin API key, so the key never sits in browser storage. Sessions are
 * kept per replica on purpose: a restart signs everybody out, which is the safe direction.
 */
@Service
public class AdminSessions {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Clock clock;

    private final Duration idleTimeout;

    private final Duration absoluteTimeout;

    // Keyed by the SHA-256 of the id, so a heap dump or a timing difference in the map lookup does
    // not hand out a usable cookie value. Caffeine's own expiry only frees memory; whether a session
    // is still valid is decided against the Clock below, the one every feature reads the time from.
    private final Cache<String, AdminSession> sessions;

    public AdminSessions(Clock clock, AdminSessionProperties properties) {
        this.clock = clock;
        this.idleTimeout = properties.sessionIdleTimeout();
        this.absoluteTimeout = properties.sessionAbsoluteTimeout();
        this.sessions = Caffeine.newBuilder().expireAfterAccess(idleTimeout).maximumSize(100_000).build();
    }

    /** A session: whose it is, its CSRF token, and its age. */
    public static final class AdminSession {

        private final String clientId;

        private final String csrfToken;

        private final Instant createdAt;

        private final AtomicReference<Instant> lastUsedAt;

        AdminSession(String clientId, String csrfToken, Instant createdAt) {
            this.clientId = clientId;
            this.csrfToken = csrfToken;
            this.createdAt = createdAt;
            this.lastUsedAt = new AtomicReference<>(createdAt);
        }

        public String clientId() {
            return clientId;
        }

        public String csrfToken() {
            return csrfToken;
        }

        public Instant createdAt() {
            return createdAt;
        }

        /** Whether {@code candidate} is this session's CSRF token, compared in constant time. */
        public boolean csrfTokenMatches(@Nullable String candidate) {
            return candidate != null && MessageDigest.isEqual(csrfToken.getBytes(StandardCharsets.US_ASCII),
                    candidate.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public String toString() {
            return "AdminSession[clientId=" + clientId + ", createdAt=" + createdAt + ", csrfToken=(redacted)]";
        }
    }

    /** A new session and the id for its cookie, which is not kept. */
    public record Created(String id, AdminSession session) {

        @Override
        public String toString() {
            return "Created[id=(redacted), session=" + session + "]";
        }
    }

    /** Starts a session for {@code clientId}. */
    public Created create(String clientId) {
        String id = randomToken();
        AdminSession session = new AdminSession(clientId, randomToken(), clock.instant());
        sessions.put(hash(id), session);
        return new Created(id, session);
    }

    /** The session of cookie value {@code id} when it is neither idle too long nor too old; touching it. */
    public Optional<AdminSession> find(@Nullable String id) {
        if (id == null || id.isEmpty() || id.length() > 128) {
            return Optional.empty();
        }
        String key = hash(id);
        AdminSession session = sessions.getIfPresent(key);
        if (session == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        if (!now.isBefore(session.createdAt.plus(absoluteTimeout))
                || !now.isBefore(session.lastUsedAt.get().plus(idleTimeout))) {
            sessions.invalidate(key);
            return Optional.empty();
        }
        session.lastUsedAt.set(now);
        return Optional.of(session);
    }

    /** When {@code session} ends at the latest, used or not. */
    public Instant absoluteExpiry(AdminSession session) {
        return session.createdAt.plus(absoluteTimeout);
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public Duration absoluteTimeout() {
        return absoluteTimeout;
    }

    /** Ends the session of cookie value {@code id}, if any. */
    public void end(@Nullable String id) {
        if (id != null && !id.isEmpty() && id.length() <= 128) {
            sessions.invalidate(hash(id));
        }
    }

    private static String randomToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String hash(String id) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        }
        catch (java.security.NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every JDK", ex);
        }
    }
}
