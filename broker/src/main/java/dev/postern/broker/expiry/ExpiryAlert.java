package dev.postern.broker.expiry;

import java.net.URI;
import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * One object in an alert: what expires, when, which threshold it just crossed, and where to act.
 *
 * @param object the object
 * @param state its state
 * @param threshold the threshold crossed in this scan ({@code 30d}, ..., {@code expired},
 *        {@code reauth_required}); when a scan finds several at once, the most urgent
 * @param daysLeft whole days left (negative once expired)
 * @param actionUrl the admin UI page to act on: the app's page for a credential, the mailboxes page
 *        for a mailbox (never a connect link, which is a bearer capability)
 */
public record ExpiryAlert(ExpiringObject object, ExpiryState state, String threshold, long daysLeft,
        @Nullable URI actionUrl) {

    /** When it expires. */
    public Instant expiresAt() {
        return object.expiresAt();
    }

    /** What a person must do, in one sentence. */
    public String action() {
        if (object.kind() == ExpiringObject.Kind.MAILBOX) {
            return "The mailbox owner must reconnect the mailbox: an admin sends them a connect link from "
                    + (actionUrl == null ? "the admin UI" : actionUrl) + ".";
        }
        String where = actionUrl == null ? "in the admin UI" : "at " + actionUrl;
        if (!object.managed()) {
            return "This credential exists in Entra ID but not in Postern: add its replacement to Postern and rotate "
                    + where + ", or delete it in Entra ID if nothing uses it.";
        }
        return "Add a new " + (object.kind() == ExpiringObject.Kind.CERTIFICATE ? "certificate" : "client secret")
                + ", verify and promote it, then delete this one " + where + ".";
    }
}
