package dev.postern.broker.reliability;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The identity provider's side of rotating refresh tokens, as {@link FakeTokenEndpoint} plays it: one
 * grant per mailbox, a new refresh token on every refresh, and a record of which of the grant's tokens
 * each refresh presented, so a test can tell a broker that refreshed with the latest token from one that
 * used an older one.
 */
final class RotatingRefreshTokens {

    /** What the provider does when a refresh presents a token that was already rotated. */
    enum Rotation {

        /**
         * Microsoft's behaviour: every refresh returns a new refresh token, and earlier ones keep
         * working until they expire (the client is expected to keep the newest).
         */
        OLD_TOKENS_KEEP_WORKING,

        /**
         * Strict rotation with reuse detection (Auth0 and Okta without a reuse grace period, OAuth 2.0
         * Security BCP 4.14.2): a refresh token works once; presenting a used one is taken for theft and
         * revokes the whole grant, the newest token included.
         */
        REUSE_REVOKES_THE_GRANT
    }

    /** One refresh at the provider: the generation of the token it presented (0: from the code exchange). */
    record Redemption(int generation, boolean accepted) {
    }

    private static final class Grant {

        final List<String> issued = new ArrayList<>();

        final List<Redemption> redemptions = new ArrayList<>();

        boolean revoked;
    }

    private record Issued(Grant grant, int generation) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Rotation rotation;

    private final Map<String, Grant> grants = new ConcurrentHashMap<>();

    private final Map<String, Issued> tokens = new ConcurrentHashMap<>();

    private final AtomicInteger rotations = new AtomicInteger();

    private final AtomicInteger unknownPresented = new AtomicInteger();

    RotatingRefreshTokens(Rotation rotation) {
        this.rotation = rotation;
    }

    Rotation rotation() {
        return rotation;
    }

    /** A new grant for {@code mailbox} (the owner signed in and consented); its first refresh token. */
    String start(String mailbox) {
        Grant grant = new Grant();
        grants.put(mailbox, grant);
        synchronized (grant) {
            return issue(grant);
        }
    }

    /**
     * A refresh that presents {@code refreshToken}: the new refresh token, or {@code null} when the
     * provider refuses it ({@code invalid_grant}).
     */
    String redeem(String refreshToken) {
        Issued presented = tokens.get(refreshToken);
        if (presented == null) {
            unknownPresented.incrementAndGet();
            return null;
        }
        Grant grant = presented.grant();
        synchronized (grant) {
            boolean latest = presented.generation() == grant.issued.size() - 1;
            boolean accepted = !grant.revoked && (latest || rotation == Rotation.OLD_TOKENS_KEEP_WORKING);
            if (!latest && rotation == Rotation.REUSE_REVOKES_THE_GRANT) {
                grant.revoked = true;
            }
            grant.redemptions.add(new Redemption(presented.generation(), accepted));
            if (!accepted) {
                return null;
            }
            rotations.incrementAndGet();
            return issue(grant);
        }
    }

    private String issue(Grant grant) {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        String token = "rt-" + HexFormat.of().formatHex(bytes);
        tokens.put(token, new Issued(grant, grant.issued.size()));
        grant.issued.add(token);
        return token;
    }

    private Grant grant(String mailbox) {
        Grant grant = grants.get(mailbox);
        if (grant == null) {
            throw new IllegalArgumentException("no grant for " + mailbox);
        }
        return grant;
    }

    /** The generation of the newest refresh token of {@code mailbox}'s grant. */
    int latestGeneration(String mailbox) {
        Grant grant = grant(mailbox);
        synchronized (grant) {
            return grant.issued.size() - 1;
        }
    }

    /** Every refresh of {@code mailbox} so far, in the order they reached the provider. */
    List<Redemption> redemptions(String mailbox) {
        Grant grant = grant(mailbox);
        synchronized (grant) {
            return List.copyOf(grant.redemptions);
        }
    }

    /** Refreshes that got a new token, over all mailboxes. */
    int rotations() {
        return rotations.get();
    }

    /** Refreshes that presented a token this provider never issued (the broker's credential probe is one). */
    int unknownPresented() {
        return unknownPresented.get();
    }
}
