package dev.postern.broker.expiry;

import java.util.Locale;

/** Where an object stands: fine, inside a threshold, expired, or waiting for its owner to reconnect. */
public enum ExpiryState {

    OK, WARNING, EXPIRED, REAUTH_REQUIRED;

    /** The snake_case name used in the API, metrics and alerts. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }
}
