package dev.postern.broker.mailproxy;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * A password for one mailbox, for mail programs that log in to the mail proxy with a user name
 * and a password. Only its SHA-256 is stored; this record holds no secret.
 *
 * @param id derived from the password's hash, so a presented password is found with one read
 * @param accountId the mailbox it opens
 * @param name what it is for, as the admin named it
 * @param createdAt when it was made
 * @param expiresAt when it stops working, or {@code null} for never
 */
public record AppPassword(String id, String accountId, @Nullable String name, Instant createdAt,
        @Nullable Instant expiresAt) {

    /** Whether it still opens its mailbox at {@code now}. */
    public boolean isUsableAt(Instant now) {
        return expiresAt == null || now.isBefore(expiresAt);
    }
}
