package dev.postern.broker.connect;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * A one-time link a mailbox owner opens to connect a mailbox through an app. The unguessable part
 * of its URL (the link secret) is a bearer capability and is never stored: the link is kept under
 * a hash of it.
 *
 * @param id the store id: {@code lnh_} and the SHA-256 of the link secret, never the secret itself
 * @param appId the app to connect through
 * @param loginHint the mailbox to suggest at sign-in, or {@code null}
 * @param createdBy who made it
 * @param createdAt when
 * @param expiresAt when it stops working
 * @param usedAt when a mailbox was connected with it, or {@code null}
 * @param accountId the account it connected, or {@code null}
 * @param attemptStartedAt when the owner last started the sign-in, or {@code null}
 */
public record ConnectLink(String id, String appId, @Nullable String loginHint, String createdBy, Instant createdAt,
        Instant expiresAt, @Nullable Instant usedAt, @Nullable String accountId, @Nullable Instant attemptStartedAt) {

    /** How many characters of {@link #id()} name the link in the API, the audit trail and logs. */
    static final int REF_LENGTH = 16;

    /** The short name of this link in the API, the audit trail and logs: the start of its hash. */
    public String ref() {
        return id.substring(0, Math.min(REF_LENGTH, id.length()));
    }
}
