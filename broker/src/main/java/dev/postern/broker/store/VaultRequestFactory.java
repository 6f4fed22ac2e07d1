package dev.postern.broker.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.AbstractBufferingClientHttpRequest;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.client.ClientHttpResponse;

/**
 * The store's requests to Vault other than KV reads (KV writes, lists, Transit, the token's
 * renewal): the JDK's {@code HttpURLConnection}, kept alive, blocking on the calling (virtual)
 * thread, with the body buffered and sent with its length.
 * <p>
 * Measured against the other ways on one OpenBao dev server (docs/performance.md, "Where a miss
 * spends its time"): Spring's {@code JdkClientHttpRequestFactory} hands each call to the JDK
 * {@code HttpClient}'s threads and starts a new platform thread per request to stream its body;
 * Spring's {@code SimpleClientHttpRequestFactory} always streams, and {@code HttpURLConnection} in
 * a streaming mode (fixed length or chunked) took 1.5 ms more per write than with the body
 * buffered, which is what this class does (as {@code outbound.GuardedRequestFactory} does for
 * identity providers).
 * <p>
 * Redirects are followed (a Raft standby answers 307 with the active node's address; the JDK
 * repeats a POST with its body on a 307, and goes from http to http or https to https only).
 * <p>
 * With a buffered body the JDK sends a POST again, once, when a kept-alive connection turns out
 * closed before the answer: every KV write names the version it expects (CAS), so a write that had
 * landed comes back as a version conflict, which its callers already resolve; Transit calls and the
 * token's renewal may be repeated.
 */
final class VaultRequestFactory implements ClientHttpRequestFactory {

    private final @Nullable SSLSocketFactory tls;

    private final Duration connectTimeout;

    private final Duration readTimeout;

    /**
     * @param tls the sockets of {@code https} calls, or {@code null} for the JVM's defaults
     * @param readTimeout the longest wait for the next bytes of an answer: a Vault that accepts the
     *        connection but never answers fails the call after it (VaultOutageIntegrationTests)
     */
    VaultRequestFactory(@Nullable SSLSocketFactory tls, Duration connectTimeout, Duration readTimeout) {
        this.tls = tls;
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    @Override
    public ClientHttpRequest createRequest(URI uri, HttpMethod method) {
        return new Request(uri, method);
    }

    private final class Request extends AbstractBufferingClientHttpRequest {

        private final URI uri;

        private final HttpMethod method;

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
        protected ClientHttpResponse executeInternal(HttpHeaders headers, byte[] body) throws IOException {
            HttpURLConnection connection = (HttpURLConnection) uri.toURL().openConnection(Proxy.NO_PROXY);
            if (tls != null && connection instanceof HttpsURLConnection https) {
                https.setSSLSocketFactory(tls);
            }
            connection.setConnectTimeout((int) connectTimeout.toMillis());
            connection.setReadTimeout((int) readTimeout.toMillis());
            // A standby of a Raft cluster answers 307 with the active node's address: followed with the
            // same method, body and headers, as spring-vault's own JDK client follows every redirect.
            // Not following it turned a write during a leader change into an answer without a body
            // (found by RaftLeaderLossIntegrationTests).
            connection.setInstanceFollowRedirects(true);
            connection.setUseCaches(false);
            connection.setRequestMethod(method.name());
            headers.forEach((name, values) -> {
                if (!HttpHeaders.CONTENT_LENGTH.equalsIgnoreCase(name)) {
                    values.forEach(value -> connection.addRequestProperty(name, value));
                }
            });
            if (body.length > 0 || method == HttpMethod.POST || method == HttpMethod.PUT) {
                // No streaming mode: the JDK buffers the body and sends it with its Content-Length.
                connection.setDoOutput(true);
                try (OutputStream out = connection.getOutputStream()) {
                    out.write(body);
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
            if (message != null) {
                return message;
            }
            HttpStatus status = HttpStatus.resolve(connection.getResponseCode());
            return status == null ? "" : status.getReasonPhrase();
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
                body = error != null ? error
                        : connection.getResponseCode() >= 400 ? InputStream.nullInputStream() : connection.getInputStream();
            }
            return body;
        }

        /** Reads what is left of the answer so that the connection is kept for the next call. */
        @Override
        public void close() {
            try (InputStream rest = getBody()) {
                rest.transferTo(OutputStream.nullOutputStream());
            }
            catch (IOException ex) {
                connection.disconnect();
            }
        }
    }
}
