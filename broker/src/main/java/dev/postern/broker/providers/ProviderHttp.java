package dev.postern.broker.providers;

import java.net.http.HttpClient;

import org.springframework.boot.ssl.SslBundles;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.util.StringUtils;
import org.springframework.web.client.RestClient;

/**
 * The one HTTP client that talks to identity providers, for Spring's RestClient and for msal4j
 * alike. A provider whose TLS certificate is signed by a private CA (a test identity provider,
 * a corporate proxy) is trusted through a Spring Boot SSL bundle named by
 * {@code postern.providers.ssl-bundle}, never by turning validation off.
 */
@Component
public class ProviderHttp {

    private final HttpClient httpClient;

    private final RestClient restClient;

    public ProviderHttp(ProvidersProperties properties, SslBundles sslBundles) {
        HttpClient.Builder builder = HttpClient.newBuilder()
            .connectTimeout(properties.timeout())
            .followRedirects(HttpClient.Redirect.NEVER);
        if (StringUtils.hasText(properties.sslBundle())) {
            builder.sslContext(sslBundles.getBundle(properties.sslBundle()).createSslContext());
        }
        this.httpClient = builder.build();
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(httpClient);
        factory.setReadTimeout(properties.timeout());
        this.restClient = RestClient.builder().requestFactory(factory).build();
    }

    /** The JDK client, for msal4j's {@link MsalHttpClient}. */
    HttpClient httpClient() {
        return httpClient;
    }

    /** A RestClient on the same client, for OAuth2 token endpoint calls. */
    RestClient restClient() {
        return restClient;
    }
}
