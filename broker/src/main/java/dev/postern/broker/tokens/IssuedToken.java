package dev.postern.broker.tokens;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * An access token for a mailbox, as handed to a mail client.
 *
 * @param accountId the mailbox's account
 * @param accessToken the token
 * @param expiresAt when it expires
 * @param scope its scopes
 * @param username the mailbox address, the XOAUTH2 user
 */
public record IssuedToken(String accountId, String accessToken, Instant expiresAt, String scope, String username) {

    /**
     * The SASL XOAUTH2 initial response that IMAP {@code AUTHENTICATE XOAUTH2} and SMTP
     * {@code AUTH XOAUTH2} take: {@code base64("user=" + user + "^Aauth=Bearer " + token + "^A^A")}.
     */
    public String xoauth2() {
        String response = "user=" + username + "\u0001auth=Bearer " + accessToken + "\u0001\u0001";
        return Base64.getEncoder().encodeToString(response.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "IssuedToken[account=" + accountId + ", expiresAt=" + expiresAt + ", token=(redacted)]";
    }
}
