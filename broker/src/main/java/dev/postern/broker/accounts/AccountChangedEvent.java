package dev.postern.broker.accounts;

/**
 * Published when a mailbox was revoked, reconnected or needs its owner again, so that cached
 * tokens of it are dropped at once.
 *
 * @param account the account as it is now
 */
public record AccountChangedEvent(Account account) {
}
