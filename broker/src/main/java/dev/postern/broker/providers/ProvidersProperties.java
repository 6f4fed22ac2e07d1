package dev.postern.broker.providers;

import java.net.URI;
import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Identity providers ({@code postern.providers.*}).
 *
 * @param microsoftAuthorityHost Microsoft's login host; the default is
 *        {@code https://login.microsoftonline.com}, others serve sovereign clouds
 * @param googleAuthorizeEndpoint Google's authorize endpoint
 * @param googleTokenEndpoint Google's token endpoint
 * @param timeout how long a call to a provider may take; the default is 10 seconds
 * @param sslBundle a Spring Boot SSL bundle whose trust material is used for provider calls,
 *        for a provider behind a private CA; the default is the JVM's trust store
 */
@ConfigurationProperties("postern.providers")
public record ProvidersProperties(@DefaultValue("https://login.microsoftonline.com") URI microsoftAuthorityHost,
        @DefaultValue("https://accounts.google.com/o/oauth2/v2/auth") URI googleAuthorizeEndpoint,
        @DefaultValue("https://oauth2.googleapis.com/token") URI googleTokenEndpoint,
        @DefaultValue("10s") Duration timeout, @Nullable String sslBundle) {
}
