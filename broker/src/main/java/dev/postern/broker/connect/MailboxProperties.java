package dev.postern.broker.connect;

import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.postern.broker.providers.ProviderKind;

/**
 * Mailbox refresh-token lifetimes ({@code postern.mailboxes.*}).
 *
 * @param microsoftIdleLifetime how long a Microsoft refresh token lives unused; the default is 90 days
 * @param googleIdleLifetime how long a Google refresh token lives unused; the default is 180 days
 * @param genericIdleLifetime how long a generic provider's refresh token lives unused; the default is 90 days
 */
@ConfigurationProperties("postern.mailboxes")
public record MailboxProperties(@DefaultValue("90d") Duration microsoftIdleLifetime,
        @DefaultValue("180d") Duration googleIdleLifetime, @DefaultValue("90d") Duration genericIdleLifetime) {

    /** The idle lifetime of a refresh token of {@code provider}. */
    public Duration idleLifetime(ProviderKind provider) {
        return Map.of(ProviderKind.MICROSOFT, microsoftIdleLifetime, ProviderKind.GOOGLE, googleIdleLifetime,
                ProviderKind.GENERIC, genericIdleLifetime).get(provider);
    }
}
