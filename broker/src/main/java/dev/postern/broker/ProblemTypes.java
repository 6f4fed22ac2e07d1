package dev.postern.broker;

/**
 * Every problem type the broker answers with, as the slug after {@code https://postern.dev/problems/}
 * (the {@code type} of an RFC 9457 problem). One catalogue, beside {@link ApiException}, so every
 * feature names a type the same way and docs/api.md ("Problem types") can be checked against it.
 */
public final class ProblemTypes {

    /** 400: the request cannot be understood, including URLs the firewall refuses and invalid fields. */
    public static final String INVALID_REQUEST = "invalid-request";

    /** 401: no usable credentials: no key, an unknown, revoked or expired key, or an ended session. */
    public static final String UNAUTHORIZED = "unauthorized";

    /** 403: authenticated, but the call is not open to the caller's role, or a CSRF token is missing. */
    public static final String FORBIDDEN = "forbidden";

    /** 404: no such object, or one the caller may not know of. */
    public static final String NOT_FOUND = "not-found";

    /** 405. */
    public static final String METHOD_NOT_ALLOWED = "method-not-allowed";

    /** 406. */
    public static final String NOT_ACCEPTABLE = "not-acceptable";

    /** 413: the request body is larger than the broker accepts. */
    public static final String PAYLOAD_TOO_LARGE = "payload-too-large";

    /** 415. */
    public static final String UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type";

    /** 400: an endpoint the outbound rules refuse to call (with {@code rule}). */
    public static final String ENDPOINT_NOT_ALLOWED = "endpoint-not-allowed";

    /** 409: the object was changed by another request at the same time. */
    public static final String CONFLICT = "conflict";

    /** 409: the change would move an app that holds credentials to another provider identity. */
    public static final String CREDENTIAL_BOUND = "credential-bound";

    /** 409: a credential not verified yet cannot be promoted. */
    public static final String CREDENTIAL_NOT_VERIFIED = "credential-not-verified";

    /** 409: the active credential cannot be deleted. */
    public static final String CREDENTIAL_IN_USE = "credential-in-use";

    /** 409: an expired credential cannot be verified or promoted. */
    public static final String CREDENTIAL_EXPIRED = "credential-expired";

    /** 409: the last usable admin client cannot be revoked. */
    public static final String LAST_ADMIN = "last-admin";

    /** 409: the app has no usable credential. */
    public static final String NO_ACTIVE_CREDENTIAL = "no-active-credential";

    /** 409: the mailbox must be connected again. */
    public static final String REAUTH_REQUIRED = "reauth-required";

    /** 409: the mailbox was revoked. */
    public static final String ACCOUNT_REVOKED = "account-revoked";

    /** 409: the app of the mailbox no longer exists. */
    public static final String APP_MISSING = "app-missing";

    /** 409: the mailbox has as many app passwords as it may. */
    public static final String TOO_MANY_APP_PASSWORDS = "too-many-app-passwords";

    /** 429: too many failed authentications from one address with one key prefix. */
    public static final String TOO_MANY_FAILED_AUTHENTICATIONS = "too-many-failed-authentications";

    /** 500: anything unexpected; the request id leads to the log entry. */
    public static final String INTERNAL_ERROR = "internal-error";

    /** 500: a stored document failed its integrity check and was not used. */
    public static final String STORE_INTEGRITY = "store-integrity";

    /** 502: the identity provider refused the app's own credential. */
    public static final String PROVIDER_REJECTED_CLIENT = "provider-rejected-client";

    /** 502: the identity provider answered with an error. */
    public static final String PROVIDER_ERROR = "provider-error";

    /** 503: the secret store cannot be used right now. */
    public static final String STORE_UNAVAILABLE = "store-unavailable";

    /** 503: the identity provider cannot be called right now. */
    public static final String PROVIDER_UNAVAILABLE = "provider-unavailable";

    /** 503: another replica is refreshing the mailbox, or the owner connected it again during the refresh. */
    public static final String REFRESH_IN_PROGRESS = "refresh-in-progress";

    /** 503: the refresh did not finish in time. */
    public static final String REFRESH_TIMEOUT = "refresh-timeout";

    /** 503: this replica is shutting down and starts no refresh. */
    public static final String SHUTTING_DOWN = "shutting-down";

    private ProblemTypes() {
    }
}
