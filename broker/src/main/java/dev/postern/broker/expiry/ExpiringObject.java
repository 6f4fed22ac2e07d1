package dev.postern.broker.expiry;

import java.net.URI;
import java.time.Instant;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * Something that stops working at a known time: an app's client secret or certificate, or a
 * mailbox's refresh token. An {@link ExpiringObjectSource} lists them; the scanner decides their
 * state and alerts. Holds no secret.
 *
 * @param kind what it is
 * @param id its id, unique within the app (a credential id, an account id, or
 *        {@code entra_{keyId}} for one found only in Microsoft Graph)
 * @param appId the app it belongs to: alerts are grouped per app
 * @param label a human name, such as the credential's description or the mailbox address
 * @param expiresAt when it stops working
 * @param hint what the source knows about its use, which the dates alone do not tell
 * @param managed {@code false} for a credential that exists at the provider but was never entered
 *        in Postern
 * @param reconnectUrl for a mailbox, a link its owner opens to connect again, else {@code null}
 */
public record ExpiringObject(Kind kind, String id, String appId, String label, Instant expiresAt, Hint hint,
        boolean managed, @Nullable URI reconnectUrl) {

    @Override
    public String toString() {
        // The reconnect link is a bearer capability: never printed.
        return "ExpiringObject[" + kind.value() + " " + id + " of " + appId + ", expiresAt=" + expiresAt + ", hint=" + hint
                + ", reconnectUrl=" + (reconnectUrl == null ? "none" : "(redacted)") + "]";
    }

    /** The kinds of expiring object. */
    public enum Kind {

        CLIENT_SECRET, CERTIFICATE, MAILBOX;

        /** The snake_case name used in the API, metrics and alerts. */
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the source knows beyond the expiry date. */
    public enum Hint {

        /** In use now: an active credential or a connected mailbox. Expired means an outage. */
        IN_USE,

        /** Not in use yet or any more, but not replaced either: a pending credential, one found only in Graph. */
        STANDBY,

        /** Replaced: a retired credential while a newer one is active. Its alerts resolve. */
        SUPERSEDED,

        /** A mailbox whose refresh token the provider refused: the owner must reconnect. */
        REAUTH_REQUIRED
    }
}
