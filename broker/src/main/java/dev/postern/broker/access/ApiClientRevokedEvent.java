package dev.postern.broker.access;

/**
 * Published by {@link ApiClientService} after an API client was revoked, so that what other
 * features keep open for it (the mail proxy's sessions) ends too.
 *
 * @param clientId the revoked client
 */
public record ApiClientRevokedEvent(String clientId) {
}
