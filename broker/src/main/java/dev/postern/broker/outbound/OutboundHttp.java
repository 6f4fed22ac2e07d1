package dev.postern.broker.outbound;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpTimeoutException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;

import javax.net.ssl.SSLContext;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.client.RestClient;

/**
 * The one way out: RestClients whose every call passes {@link OutboundPolicy} on the URL and on
 * the address the connection reached, follows no redirect (a 3xx is an error), reads at most
 * {@value #MAX_ANSWER_BYTES} bytes of an answer and gives up after a deadline.
 *
 * <p>Built on the JDK's {@code HttpURLConnection} rather than {@code java.net.http.HttpClient}:
 * the latter has no hook between resolving a name and connecting, while the former lets an
 * {@code SSLSocketFactory} see the connected socket before the TLS handshake (see
 * {@link CheckingSocketFactory}). No system proxy is used, so the address checked is the peer's.
 */
@Component
public class OutboundHttp {

    /** The largest answer read from a peer: 256 KiB. */
    public static final int MAX_ANSWER_BYTES = 256 * 1024;

    private final OutboundPolicy policy;

    public OutboundHttp(OutboundPolicy policy) {
        this.policy = policy;
    }

    /**
     * A client whose calls each take at most {@code timeout} to connect, at most {@code timeout}
     * between two reads and at most twice {@code timeout} in all; TLS trusts {@code ssl}'s
     * material, or the JVM's when {@code null}.
     */
    public RestClient restClient(Duration timeout, @Nullable SSLContext ssl) {
        CheckingSocketFactory sockets = new CheckingSocketFactory(context(ssl).getSocketFactory(), policy);
        GuardedRequestFactory factory = new GuardedRequestFactory(policy, sockets, timeout);
        long deadlineNanos = timeout.multipliedBy(2).toNanos();
        return RestClient.builder()
            .requestFactory(factory)
            .requestInterceptor(limits(deadlineNanos))
            .build();
    }

    private static SSLContext context(@Nullable SSLContext ssl) {
        if (ssl != null) {
            return ssl;
        }
        try {
            return SSLContext.getDefault();
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("the JVM has no default TLS context", ex);
        }
    }

    private static ClientHttpRequestInterceptor limits(long deadlineNanos) {
        return (request, body, execution) -> {
            long deadline = System.nanoTime() + deadlineNanos;
            ClientHttpResponse response = execution.execute(request, body);
            if (response.getStatusCode().is3xxRedirection()) {
                response.close();
                throw new EndpointNotAllowedException(AddressRules.Rule.REDIRECT, "the destination "
                        + request.getURI().getHost() + " answered with a redirect, which is not followed");
            }
            return new LimitedResponse(response, deadline);
        };
    }

    /** A response whose body stops at the size cap and the deadline. */
    private static final class LimitedResponse implements ClientHttpResponse {

        private final ClientHttpResponse delegate;

        private final long deadline;

        private @Nullable InputStream body;

        LimitedResponse(ClientHttpResponse delegate, long deadline) {
            this.delegate = delegate;
            this.deadline = deadline;
        }

        @Override
        public HttpStatusCode getStatusCode() throws IOException {
            return delegate.getStatusCode();
        }

        @Override
        public String getStatusText() throws IOException {
            return delegate.getStatusText();
        }

        @Override
        public HttpHeaders getHeaders() {
            return delegate.getHeaders();
        }

        @Override
        public InputStream getBody() throws IOException {
            if (body == null) {
                body = new LimitedStream(delegate.getBody(), deadline);
            }
            return body;
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    private static final class LimitedStream extends FilterInputStream {

        private final long deadline;

        private long read;

        LimitedStream(InputStream in, long deadline) {
            super(in);
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (System.nanoTime() - deadline > 0) {
                throw new HttpTimeoutException("the answer took longer than its deadline");
            }
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                read += n;
                if (read > MAX_ANSWER_BYTES) {
                    throw new EndpointNotAllowedException(AddressRules.Rule.TOO_LARGE,
                            "the answer is larger than " + MAX_ANSWER_BYTES / 1024 + " KiB and was not read");
                }
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            return read(new byte[(int) Math.min(n, 8192)], 0, (int) Math.min(n, 8192));
        }
    }
}
