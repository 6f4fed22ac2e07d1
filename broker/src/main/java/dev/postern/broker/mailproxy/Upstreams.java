package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.ssl.SslBundle;

import dev.postern.broker.ApiException;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppService;
import dev.postern.broker.store.StoreUnavailableException;

/**
 * The mail servers a mailbox's sessions go to (its app's {@code imap_endpoint} and
 * {@code smtp_endpoint}, by default the provider's), and connections to them with verified TLS:
 * the JVM's trust store plus the CAs of {@code postern.mail-proxy.upstream-ssl-bundle}, the host
 * name checked.
 */
final class Upstreams {

    /** How a connection to an upstream is secured; never plaintext. */
    enum Security {
        /** TLS from the first byte ({@code imaps://}, {@code smtps://}). */
        IMPLICIT_TLS,
        /** {@code STARTTLS} before anything else ({@code imap://}, {@code smtp://}). */
        STARTTLS
    }

    /** A server and how to reach it. */
    record Endpoint(String host, int port, Security security) {

        static Endpoint of(URI server) {
            String scheme = server.getScheme();
            return new Endpoint(server.getHost(), server.getPort(),
                    scheme.endsWith("s") ? Security.IMPLICIT_TLS : Security.STARTTLS);
        }
    }

    private final SSLContext tls;

    private final AppService apps;

    private final Duration timeout;

    private final Duration spareMaxAge;

    /** A connection opened ahead of the next login to its endpoint; used once. */
    private record Spare(MailLine line, long openedNanos) {
    }

    /**
     * At most one spare per endpoint, open or being opened; only endpoints a logged-in client has
     * used get one.
     */
    private final ConcurrentHashMap<Endpoint, CompletableFuture<Spare>> spares = new ConcurrentHashMap<>();

    private final AtomicLong sparesOpened = new AtomicLong();

    private final AtomicLong sparesUsed = new AtomicLong();

    private volatile boolean closed;

    Upstreams(SSLContext tls, AppService apps, Duration timeout) {
        this(tls, apps, timeout, Duration.ZERO);
    }

    /**
     * {@code spareMaxAge} above zero: after each login, one connection to the same endpoint is opened
     * ahead (TCP, and TLS for implicit TLS), for the next login to take, and closed unused after
     * that long.
     */
    Upstreams(SSLContext tls, AppService apps, Duration timeout, Duration spareMaxAge) {
        this.tls = tls;
        this.apps = apps;
        this.timeout = timeout;
        this.spareMaxAge = spareMaxAge;
    }

    /**
     * A client TLS context that trusts the JVM's CAs and, when given, those of {@code extra} as well
     * (a private CA in front of a company's mail server, or the tests' CA).
     */
    static SSLContext trusting(@Nullable SslBundle extra) throws GeneralSecurityException, IOException {
        if (extra == null) {
            return SSLContext.getDefault();
        }
        KeyStore combined = KeyStore.getInstance(KeyStore.getDefaultType());
        combined.load(null, null);
        TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        system.init((KeyStore) null);
        int i = 0;
        for (TrustManager manager : system.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                for (X509Certificate ca : x509.getAcceptedIssuers()) {
                    combined.setCertificateEntry("system-" + i++, ca);
                }
            }
        }
        KeyStore added = extra.getStores().getTrustStore();
        if (added == null) {
            throw new IllegalStateException("postern.mail-proxy.upstream-ssl-bundle has no trust store (truststore.certificate)");
        }
        for (String alias : Collections.list(added.aliases())) {
            if (added.isCertificateEntry(alias)) {
                combined.setCertificateEntry("bundle-" + alias, added.getCertificate(alias));
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(combined);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    /** The IMAP server of {@code account}'s app. */
    Endpoint imap(Account account) throws MailLogins.LoginFailure {
        return Endpoint.of(required(app(account).imapServer(), "IMAP", "imap_endpoint"));
    }

    /** The SMTP submission server of {@code account}'s app. */
    Endpoint smtp(Account account) throws MailLogins.LoginFailure {
        return Endpoint.of(required(app(account).smtpServer(), "SMTP", "smtp_endpoint"));
    }

    private AppRegistration app(Account account) throws MailLogins.LoginFailure {
        try {
            return apps.get(account.appId());
        }
        catch (ApiException ex) {
            throw new MailLogins.LoginFailure(false, ex.type(), ex.getMessage());
        }
        catch (StoreUnavailableException ex) {
            throw new MailLogins.LoginFailure(false, "store_unavailable", MailLogins.STORE_UNAVAILABLE);
        }
    }

    private static URI required(@Nullable URI server, String protocol, String field) throws MailLogins.LoginFailure {
        if (server == null) {
            throw new MailLogins.LoginFailure(false, "no_upstream_configured", "No " + protocol
                    + " server is configured for this mailbox's app: set its " + field + ".");
        }
        return server;
    }

    /**
     * A connection to {@code endpoint} for a client whose credentials were accepted: the spare opened
     * after an earlier login there when it is young and alive (waiting for it when its handshake is
     * under way: it started earlier than a new one would), else a new one.
     */
    MailLine connect(Endpoint endpoint) throws IOException {
        CompletableFuture<Spare> next = spares.remove(endpoint);
        if (next != null) {
            try {
                Spare spare = next.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (System.nanoTime() - spare.openedNanos() < spareMaxAge.toNanos() && alive(spare.line())) {
                    sparesUsed.incrementAndGet();
                    return spare.line();
                }
                spare.line().close();
            }
            catch (ExecutionException ex) {
                // It could not be opened: a new connection says why, if it fails too.
            }
            catch (TimeoutException ex) {
                next.thenAccept(late -> late.line().close());
            }
            catch (InterruptedException ex) {
                next.thenAccept(late -> late.line().close());
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for a connection to the mail server");
            }
        }
        return open(endpoint);
    }

    /**
     * After a login to {@code endpoint} succeeded: opens a spare connection there for the next login,
     * in the background, unless one is open or being opened. Only logins call this, so a client that
     * has not proved who it is never makes the proxy connect anywhere; and it is called once the
     * login is answered, so it does not take CPU from the login's own upstream exchange.
     */
    void prepareNext(Endpoint endpoint) {
        if (spareMaxAge.isZero() || spareMaxAge.isNegative() || closed) {
            return;
        }
        CompletableFuture<Spare> future = new CompletableFuture<>();
        if (spares.putIfAbsent(endpoint, future) != null) {
            return;
        }
        Thread.ofVirtual().name("mail-proxy-spare").start(() -> {
            Spare spare;
            try {
                spare = new Spare(open(endpoint), System.nanoTime());
            }
            catch (IOException | RuntimeException ex) {
                spares.remove(endpoint, future);
                future.completeExceptionally(ex);
                return;
            }
            sparesOpened.incrementAndGet();
            future.complete(spare);
            if (closed) {
                closeSpares();
                return;
            }
            try {
                Thread.sleep(spareMaxAge);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            // Not taken in time: servers drop connections that do not log in, so it goes before that.
            if (spares.remove(endpoint, future)) {
                spare.line().close();
            }
        });
    }

    /**
     * Whether a spare is still open: IMAP and SMTP servers speak first, so its greeting is waiting
     * (left unread for the session); the end of the stream means the server closed it.
     */
    private boolean alive(MailLine line) {
        try {
            line.socket.setSoTimeout(1);
            line.in.mark(1);
            int first;
            try {
                first = line.in.read();
            }
            catch (SocketTimeoutException ex) {
                // No greeting yet: it may be on its way.
                return !line.socket.isClosed();
            }
            finally {
                line.socket.setSoTimeout((int) timeout.toMillis());
            }
            line.in.reset();
            return first >= 0;
        }
        catch (IOException ex) {
            return false;
        }
    }

    /** Spare connections opened so far. */
    long sparesOpened() {
        return sparesOpened.get();
    }

    /** Logins that took a spare connection instead of opening one. */
    long sparesUsed() {
        return sparesUsed.get();
    }

    /** Whether a spare is being opened now. */
    boolean openingSpare() {
        return spares.values().stream().anyMatch(future -> !future.isDone());
    }

    /** Closes the spares (the proxy stops). */
    void closeSpares() {
        closed = true;
        for (Endpoint endpoint : spares.keySet()) {
            CompletableFuture<Spare> spare = spares.remove(endpoint);
            if (spare != null) {
                spare.thenAccept(open -> open.line().close());
            }
        }
    }

    /** A connection to {@code endpoint}: TLS already for implicit TLS, plaintext until STARTTLS otherwise. */
    MailLine open(Endpoint endpoint) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(endpoint.host(), endpoint.port()), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            if (endpoint.security() == Security.IMPLICIT_TLS) {
                return new MailLine(handshake(socket, endpoint));
            }
            return new MailLine(socket);
        }
        catch (IOException | RuntimeException ex) {
            socket.close();
            throw ex;
        }
    }

    /** Upgrades a plaintext connection after the server agreed to {@code STARTTLS}. */
    MailLine startTls(MailLine plain, Endpoint endpoint) throws IOException {
        return new MailLine(handshake(plain.socket, endpoint));
    }

    private SSLSocket handshake(Socket socket, Endpoint endpoint) throws IOException {
        SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(socket, endpoint.host(), endpoint.port(), true);
        SSLParameters parameters = ssl.getSSLParameters();
        // Verify that the certificate names the host, as HTTPS clients do (a valid chain alone is not enough).
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(parameters);
        ssl.setUseClientMode(true);
        ssl.startHandshake();
        return ssl;
    }
}
