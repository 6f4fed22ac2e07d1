package dev.postern.broker.audit;

/**
 * Every action the audit trail records, as {@code object.verb}: the values of an event's
 * {@code action} and of {@code GET /v1/audit?action=…}. One catalogue, so docs/api.md ("Audit
 * actions") can be checked against it.
 */
public final class AuditActions {

    /** An API client was created (by an admin, or the bootstrap admin at first start). */
    public static final String CLIENT_CREATE = "client.create";

    /** An API client was revoked. */
    public static final String CLIENT_REVOKE = "client.revoke";

    /** An admin signed in to the web app (or was denied: not an admin key). */
    public static final String SESSION_CREATE = "session.create";

    /** An admin signed out of the web app. */
    public static final String SESSION_DELETE = "session.delete";

    /** An app was registered. */
    public static final String APP_CREATE = "app.create";

    /** An app was changed (or a change refused: {@code credential-bound}). */
    public static final String APP_UPDATE = "app.update";

    /** An app was deleted. */
    public static final String APP_DELETE = "app.delete";

    /** A credential was added to an app (a client secret, or a certificate generated or uploaded). */
    public static final String CREDENTIAL_CREATE = "credential.create";

    /** A credential was tried at the provider. */
    public static final String CREDENTIAL_VERIFY = "credential.verify";

    /** A credential became the app's active one. */
    public static final String CREDENTIAL_PROMOTE = "credential.promote";

    /** A credential was deleted. */
    public static final String CREDENTIAL_DELETE = "credential.delete";

    /** A connect link was made. */
    public static final String CONNECT_LINK_CREATE = "connect_link.create";

    /** A mailbox was connected for the first time (or a connect failed or was denied). */
    public static final String ACCOUNT_CONNECT = "account.connect";

    /** A mailbox was connected again by the identity it is bound to (or by another: denied). */
    public static final String ACCOUNT_RECONNECT = "account.reconnect";

    /** A revoked mailbox was connected again by another identity. */
    public static final String ACCOUNT_REBIND = "account.rebind";

    /** A mailbox was revoked. */
    public static final String ACCOUNT_REVOKE = "account.revoke";

    /** The provider refused a mailbox's refresh token: its owner must connect it again. */
    public static final String ACCOUNT_REAUTH_REQUIRED = "account.reauth_required";

    /** An idle mailbox's refresh token was used so that it does not expire unused. */
    public static final String ACCOUNT_KEEP_ALIVE = "account.keep_alive";

    /** An access token was issued for a mailbox (or refused). */
    public static final String TOKEN_ISSUE = "token.issue";

    /** An app password was made for a mailbox. */
    public static final String APP_PASSWORD_CREATE = "app_password.create";

    /** An app password was revoked. */
    public static final String APP_PASSWORD_DELETE = "app_password.delete";

    /**
     * The mail proxy stopped checking logins from one client address for a while, after too many
     * failed ones: one event per block, however many logins it refuses.
     */
    public static final String MAIL_PROXY_LOGIN_LIMIT = "mail_proxy.login_limit";

    /** A mail client logged in to the mail proxy (or was refused). */
    public static final String MAIL_PROXY_LOGIN = "mail_proxy.login";

    /** The mail proxy ended a relayed session because the credential or mailbox it logged in with was revoked. */
    public static final String MAIL_PROXY_SESSION_CLOSE = "mail_proxy.session_close";

    /** A day of the audit trail was deleted from the store: all of it older than {@code postern.audit.retention}. */
    public static final String AUDIT_RETENTION = "audit.retention";

    private AuditActions() {
    }
}
