package dev.postern.broker.connect;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * A one-time link a mailbox owner opens to connect a mailbox through an app.
 *
 * @param id its id, also the unguessable part of its URL
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
}
