package dev.postern.broker.outbound;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.AbstractBufferingClientHttpRequest;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpResponse;

/**
 * One request on the JDK's {@code HttpURLConnection} with the body buffered and sent with its
 * length, and its answer as Spring's {@link ClientHttpResponse}. Spring's
 * {@code SimpleClientHttpRequestFactory} always streams the body, and in a streaming mode the JDK
 * drops the body of a {@code 401} (where a provider says {@code invalid_client}) and a write to
 * Vault took 1.5 ms longer (docs/performance.md). Used by the identity providers' client
 * ({@link GuardedRequestFactory}) and the store's ({@code store.VaultRequestFactory}).
 */
public final class BufferedExchange implements ClientHttpResponse {

    private final HttpURLConnection connection;

    private @Nullable HttpHeaders headers;

    private @Nullable InputStream body;

    private BufferedExchange(HttpURLConnection connection) {
        this.connection = connection;
    }

    /** Opens the connection of a request, set up (timeouts, TLS, redirects) but not connected. */
    @FunctionalInterface
    public interface Opener {

        HttpURLConnection open(URI uri) throws IOException;
    }

    /** A request whose body is buffered, then sent on the connection {@code opener} gives. */
    public static ClientHttpRequest request(URI uri, HttpMethod method, Opener opener) {
        return new AbstractBufferingClientHttpRequest() {

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
                return send(opener.open(uri), method, headers, body);
            }
        };
    }

    /**
     * Sends {@code method} with {@code headers} and {@code body} on {@code connection}, set up
     * (timeouts, TLS, redirects) but not connected yet; its answer.
     */
    public static BufferedExchange send(HttpURLConnection connection, HttpMethod method, HttpHeaders headers, byte[] body)
            throws IOException {
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
        return new BufferedExchange(connection);
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
