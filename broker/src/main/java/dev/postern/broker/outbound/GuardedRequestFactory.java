package dev.postern.broker.outbound;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpResponse;

/**
 * Requests on the JDK's {@code HttpURLConnection}: the URL is checked by {@link OutboundPolicy},
 * TLS goes through {@link CheckingSocketFactory}, no system proxy, no redirects. The body is
 * buffered, not streamed: in streaming mode the JDK drops the body of a {@code 401}, and a
 * provider says {@code invalid_client} exactly there (Spring's {@code SimpleClientHttpRequestFactory}
 * always streams, hence this small class).
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
            connection.setUseCaches(false);
            connection.setRequestMethod(method.name());
            headers.forEach((name, values) -> {
                for (String value : values) {
                    connection.addRequestProperty(name, value);
                }
            });
            byte[] bytes = body.toByteArray();
            if (bytes.length > 0 || method == HttpMethod.POST || method == HttpMethod.PUT) {
                connection.setDoOutput(true);
                try (OutputStream out = connection.getOutputStream()) {
                    out.write(bytes);
                }
            }
            else {
                connection.connect();
            }
            return new Response(connection);
        }
    }

    private static final class Response implements ClientHttpResponse {

        private final HttpURLConnection connection;

        private @Nullable HttpHeaders headers;

        private @Nullable InputStream body;

        Response(HttpURLConnection connection) {
            this.connection = connection;
        }

        @Override
        public HttpStatusCode getStatusCode() throws IOException {
            return HttpStatusCode.valueOf(connection.getResponseCode());
        }

        @Override
        public String getStatusText() throws IOException {
            String message = connection.getResponseMessage();
            return message == null ? "" : message;
        }

        @Override
        public HttpHeaders getHeaders() {
            if (headers == null) {
                HttpHeaders read = new HttpHeaders();
                for (Map.Entry<String, List<String>> header : connection.getHeaderFields().entrySet()) {
                    if (header.getKey() != null) {
                        read.addAll(header.getKey(), header.getValue());
                    }
                }
                headers = read;
            }
            return headers;
        }

        @Override
        public InputStream getBody() throws IOException {
            if (body == null) {
                InputStream error = connection.getErrorStream();
                body = error != null ? error : connection.getResponseCode() >= 400 ? InputStream.nullInputStream()
                        : connection.getInputStream();
            }
            return body;
        }

        @Override
        public void close() {
            try {
                getBody().close();
            }
            catch (IOException ex) {
                connection.disconnect();
            }
        }
    }
}
