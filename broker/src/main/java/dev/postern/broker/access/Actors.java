package dev.postern.broker.access;

import jakarta.servlet.http.HttpServletRequest;

/** Who is acting, for the audit trail: the API client, or {@code system} outside a request. */
public final class Actors {

    /** The actor of work the broker does by itself. */
    public static final String SYSTEM = "system";

    private Actors() {
    }

    /** The authenticated API client of {@code request}. */
    public static String of(HttpServletRequest request) {
        return principal(request).clientId();
    }

    /** The authenticated caller of {@code request}. */
    public static ApiPrincipal principal(HttpServletRequest request) {
        if (request.getUserPrincipal() instanceof ApiKeyAuthentication authentication
                && authentication.getPrincipal() != null) {
            return authentication.getPrincipal();
        }
        throw new IllegalStateException("no authenticated API client on this request");
    }
}
