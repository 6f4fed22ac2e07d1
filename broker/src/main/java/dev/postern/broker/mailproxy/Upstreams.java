package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collections;

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

    Upstreams(SSLContext tls, AppService apps, Duration timeout) {
        this.tls = tls;
        this.apps = apps;
        this.timeout = timeout;
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
