package dev.postern.broker.store;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.time.Duration;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLSocketFactory;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.ClientHttpRequest;
import org.springframework.http.client.ClientHttpRequestFactory;

import dev.postern.broker.outbound.BufferedExchange;

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
        return BufferedExchange.request(uri, method, this::open);
    }

    private HttpURLConnection open(URI uri) throws IOException {
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
        return connection;
    }
}
