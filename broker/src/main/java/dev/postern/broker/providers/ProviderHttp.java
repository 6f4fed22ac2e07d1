package dev.postern.broker.providers;

import javax.net.ssl.SSLContext;

import org.springframework.boot.ssl.SslBundles;
import org.springframework.stereotype.Component;
import org.springframework.util.StringUtils;
import org.springframework.web.client.RestClient;

import dev.postern.broker.outbound.OutboundHttp;
import dev.postern.broker.outbound.OutboundMsalHttpClient;

/**
 * The one HTTP client that talks to identity providers, for Spring's RestClient and for msal4j
 * alike, built by {@link OutboundHttp} so that every provider call obeys the outbound rules. A
 * provider whose TLS certificate is signed by a private CA (a test identity provider, a
 * corporate proxy) is trusted through a Spring Boot SSL bundle named by
 * {@code postern.providers.ssl-bundle}, never by turning validation off.
 */
@Component
public class ProviderHttp {

    private final RestClient restClient;

    private final OutboundMsalHttpClient msalHttpClient;

    public ProviderHttp(ProvidersProperties properties, SslBundles sslBundles, OutboundHttp outbound) {
        SSLContext ssl = StringUtils.hasText(properties.sslBundle())
                ? sslBundles.getBundle(properties.sslBundle()).createSslContext() : null;
        this.restClient = outbound.restClient(properties.timeout(), ssl);
        this.msalHttpClient = new OutboundMsalHttpClient(restClient);
    }

    /** The client for msal4j. */
    public OutboundMsalHttpClient msalHttpClient() {
        return msalHttpClient;
    }

    /** A RestClient for OAuth2 token endpoint calls. */
    RestClient restClient() {
        return restClient;
    }
}
