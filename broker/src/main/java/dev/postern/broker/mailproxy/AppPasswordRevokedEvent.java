package dev.postern.broker.mailproxy;

/**
 * Published by {@link AppPasswordService} after an app password was revoked, so that the mail
 * proxy ends the sessions that logged in with it.
 *
 * @param accountId its mailbox
 * @param appPasswordId the revoked app password
 */
record AppPasswordRevokedEvent(String accountId, String appPasswordId) {
}
