package dev.postern.broker.outbound;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.time.Duration;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;

import org.springframework.http.HttpMethod;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;

/**
 * Requests on the JDK's {@code HttpURLConnection}: the URL is checked by {@link OutboundPolicy},
 * TLS goes through {@link CheckingSocketFactory}, no system proxy, no redirects. The body is
 * buffered, not streamed ({@link BufferedExchange}): in streaming mode the JDK drops the body of a
 * {@code 401}, and a provider says {@code invalid_client} exactly there.
 */
final class GuardedRequestFactory implements ClientHttpRequestFactory {

    private final OutboundPolicy policy;

    private final SSLSocketFactory sockets;

    private final Duration timeout;

    GuardedRequestFactory(OutboundPolicy policy, SSLSocketFactory sockets, Duration timeout) {
        this.policy = policy;
        this.sockets = sockets;
        this.timeout = timeout;
    }

    @Override
    public ClientHttpRequest createRequest(URI uri, HttpMethod method) throws IOException {
        policy.checkUrl(uri);
        return BufferedExchange.request(uri, method, this::open);
    }

    private HttpURLConnection open(URI uri) throws IOException {
        HttpURLConnection connection;
        try {
            connection = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
        }
        catch (IllegalArgumentException ex) {
            throw new EndpointNotAllowedException(AddressRules.Rule.HTTPS_ONLY, "not a valid URL");
        }
        if (connection instanceof HttpsURLConnection https) {
            https.setSSLSocketFactory(sockets);
        }
        connection.setConnectTimeout((int) timeout.toMillis());
        connection.setReadTimeout((int) timeout.toMillis());
        connection.setInstanceFollowRedirects(false);
        return connection;
    }
}
