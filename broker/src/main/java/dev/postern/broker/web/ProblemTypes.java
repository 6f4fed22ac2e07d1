package dev.postern.broker.web;

/**
 * Problem types of the access layer, as slugs under {@link Problems#TYPE_BASE}; docs/api.md lists
 * every type the broker answers with.
 */
public final class ProblemTypes {

    /** No usable credentials: no key, an unknown, revoked or expired key, or an ended session. */
    public static final String UNAUTHORIZED = "unauthorized";

    /** Authenticated, but the call is not open to the caller's role, or a CSRF token is missing. */
    public static final String FORBIDDEN = "forbidden";

    /** The request cannot be understood, including URLs the firewall refuses. */
    public static final String INVALID_REQUEST = "invalid-request";

    /** Too many failed authentications from one address with one key prefix. */
    public static final String TOO_MANY_FAILED_AUTHENTICATIONS = "too-many-failed-authentications";

    /** The secret store cannot be used right now. */
    public static final String STORE_UNAVAILABLE = "store-unavailable";

    private ProblemTypes() {
    }
}
