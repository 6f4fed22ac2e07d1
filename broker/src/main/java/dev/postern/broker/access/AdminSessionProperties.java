package dev.postern.broker.access;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Sessions of the admin web app ({@code postern.admin.*}).
 *
 * @param sessionIdleTimeout how long a session lives without a request; the default is 30 minutes
 * @param sessionAbsoluteTimeout how long a session lives at most, used or not; the default is 8 hours
 */
@ConfigurationProperties("postern.admin")
public record AdminSessionProperties(@DefaultValue("30m") Duration sessionIdleTimeout,
        @DefaultValue("8h") Duration sessionAbsoluteTimeout) {

    public AdminSessionProperties {
        if (sessionIdleTimeout.isNegative() || sessionIdleTimeout.isZero() || sessionAbsoluteTimeout.isNegative()
                || sessionAbsoluteTimeout.isZero()) {
            throw new IllegalArgumentException("postern.admin.session-* timeouts must be positive");
        }
    }
}
