package dev.postern.broker.outbound;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Map;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpResponse;

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
        return new Request(uri, method);
    }

    private final class Request implements ClientHttpRequest {

        private final URI uri;

        private final HttpMethod method;

        private final HttpHeaders headers = new HttpHeaders();

        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        private final Map<String, Object> attributes = new java.util.HashMap<>();

        Request(URI uri, HttpMethod method) {
            this.uri = uri;
            this.method = method;
        }

        @Override
        public HttpMethod getMethod() {
            return method;
        }

        @Override
        public URI getURI() {
            return uri;
        }

        @Override
        public HttpHeaders getHeaders() {
            return headers;
        }

        @Override
        public Map<String, Object> getAttributes() {
            return attributes;
        }

        @Override
        public OutputStream getBody() {
            return body;
        }

        @Override
        public ClientHttpResponse execute() throws IOException {
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
            return BufferedExchange.send(connection, method, headers, body.toByteArray());
        }
    }
}
