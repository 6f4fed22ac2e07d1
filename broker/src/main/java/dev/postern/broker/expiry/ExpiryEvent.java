package dev.postern.broker.expiry;

import java.time.Instant;

/**
 * What the scanner publishes for one app in one scan; notifiers listen to it. Like spring-vault's
 * lease events, the scanner only decides, the listeners deliver.
 */
public sealed interface ExpiryEvent permits CredentialExpiringEvent, CredentialExpiredEvent, ExpiryResolvedEvent {

    /** The incident this belongs to: one per app, open from the first alert until all objects resolved. */
    String incidentId();

    String appId();

    /** The app's name, or its id when it no longer exists. */
    String appName();

    /** When the scan decided it. */
    Instant at();

    /** The Standard Webhooks event type, such as {@code expiry.expiring}. */
    String type();
}
