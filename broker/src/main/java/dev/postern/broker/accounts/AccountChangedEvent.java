package dev.postern.broker.accounts;

/**
 * Published by {@link AccountService} after every write of an account, so that what other
 * features keep of it (cached tokens, backoffs) follows.
 *
 * @param account the account as it is now
 * @param change what the write did
 */
public record AccountChangedEvent(Account account, Change change) {

    /** What a write of an account did. */
    public enum Change {
        /** Connected for the first time or again: new refresh token, perhaps a new identity. */
        CONNECTED,
        /** Refreshed at the provider: rotated refresh token and new access token, nothing else. */
        REFRESHED,
        /** Status or last error changed (the provider refused the refresh token, or an error is recorded). */
        STATUS,
        /** Revoked: its tokens are forgotten. */
        REVOKED
    }

    /** Whether access tokens of the account kept in memory must be dropped: they belong to an older connection or none is usable. */
    public boolean dropsTokens() {
        return switch (change) {
            case CONNECTED, REVOKED -> true;
            case STATUS -> account.status() != Account.Status.ACTIVE;
            case REFRESHED -> false;
        };
    }
}
