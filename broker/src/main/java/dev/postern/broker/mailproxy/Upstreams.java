package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.providers.ProviderKind;

/**
 * The mail servers a mailbox's sessions go to, and connections to them with verified TLS (the JVM's
 * trust store or {@code postern.mail-proxy.upstream-ssl-bundle}; the host name is checked).
 */
final class Upstreams {

    /** How a connection to an upstream is secured. */
    enum Security {
        /** TLS from the first byte (993, 465). */
        IMPLICIT_TLS,
        /** SMTP on 587: {@code STARTTLS} before anything else. */
        STARTTLS,
        /** No TLS: only for tests against a loopback server ({@code upstream-override.plaintext}). */
        PLAINTEXT
    }

    /** A server and how to reach it. */
    record Endpoint(String host, int port, Security security) {
    }

    private final SSLContext tls;

    private final MailProxyProperties.UpstreamOverride override;

    private final Duration timeout;

    Upstreams(SSLContext tls, MailProxyProperties.UpstreamOverride override, Duration timeout) {
        this.tls = tls;
        this.override = override;
        this.timeout = timeout;
    }

    /** The IMAP server of {@code account}'s provider. */
    Endpoint imap(Account account) throws MailLogins.LoginFailure {
        if (override.imapHost() != null) {
            return new Endpoint(override.imapHost(), override.imapPort(),
                    override.plaintext() ? Security.PLAINTEXT : Security.IMPLICIT_TLS);
        }
        return switch (account.provider()) {
            case MICROSOFT -> new Endpoint("outlook.office365.com", 993, Security.IMPLICIT_TLS);
            case GOOGLE -> new Endpoint("imap.gmail.com", 993, Security.IMPLICIT_TLS);
            case GENERIC -> throw noServer("IMAP");
        };
    }

    /** The SMTP submission server of {@code account}'s provider. */
    Endpoint smtp(Account account) throws MailLogins.LoginFailure {
        if (override.smtpHost() != null) {
            Security security = override.plaintext() ? Security.PLAINTEXT
                    : override.smtpPort() == 587 ? Security.STARTTLS : Security.IMPLICIT_TLS;
            return new Endpoint(override.smtpHost(), override.smtpPort(), security);
        }
        return switch (account.provider()) {
            case MICROSOFT -> new Endpoint("smtp.office365.com", 587, Security.STARTTLS);
            case GOOGLE -> new Endpoint("smtp.gmail.com", 465, Security.IMPLICIT_TLS);
            case GENERIC -> throw noServer("SMTP");
        };
    }

    private static MailLogins.LoginFailure noServer(String protocol) {
        return new MailLogins.LoginFailure(false, "no_upstream_configured", "No " + protocol + " server is configured for this mailbox's app ("
                + ProviderKind.GENERIC.name().toLowerCase(java.util.Locale.ROOT) + " provider).");
    }

    /** A connection to {@code endpoint}: TLS already for implicit TLS, plaintext otherwise. */
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
