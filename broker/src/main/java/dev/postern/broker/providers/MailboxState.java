package dev.postern.broker.providers;

/**
 * The secret a provider needs to refresh a mailbox's token: a plain refresh token (Google,
 * generic) or msal4j's token cache for the account (Microsoft), which holds the refresh token.
 *
 * @param kind which of the two
 * @param value the refresh token or the serialized cache
 */
public record MailboxState(Kind kind, String value) {

    /** The kinds of stored mailbox state. */
    public enum Kind {
        REFRESH_TOKEN, MSAL_CACHE
    }

    @Override
    public String toString() {
        return "MailboxState[" + kind + ", (redacted)]";
    }
}
