package dev.postern.broker.testing;

import java.time.Duration;
import java.util.List;
import java.util.Properties;

import javax.net.ssl.SSLSocketFactory;

import jakarta.mail.Session;

/**
 * Angus Mail sessions for XOAUTH2 against the test Dovecot, and properties for Angus Mail as a
 * client of Postern's mail proxy; every socket bounded.
 */
public final class MailClients {

    /** Connect, read and write timeout of every mail socket in the tests. */
    private static final String SOCKET_TIMEOUT_MILLIS = "5000";

    private MailClients() {
    }

    /** IMAP with {@code AUTHENTICATE XOAUTH2}: the password is the access token. */
    public static Session imap() {
        Properties props = new Properties();
        props.put("mail.imap.auth.mechanisms", "XOAUTH2");
        props.put("mail.imap.connectiontimeout", SOCKET_TIMEOUT_MILLIS);
        props.put("mail.imap.timeout", SOCKET_TIMEOUT_MILLIS);
        props.put("mail.imap.writetimeout", SOCKET_TIMEOUT_MILLIS);
        return Session.getInstance(props);
    }

    /**
     * SMTP with {@code AUTH XOAUTH2}. With {@code twoLine} the initial response goes after the 334
     * through {@link XOAuth2Sasl} (call its {@code install()} first); without, on the AUTH line,
     * which Dovecot submission refuses for a real-size token.
     */
    public static Session smtp(boolean twoLine) {
        Properties props = new Properties();
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.auth.mechanisms", "XOAUTH2");
        if (twoLine) {
            props.put("mail.smtp.sasl.enable", "true");
            props.put("mail.smtp.sasl.mechanisms", "XOAUTH2");
        }
        props.put("mail.smtp.connectiontimeout", SOCKET_TIMEOUT_MILLIS);
        props.put("mail.smtp.timeout", SOCKET_TIMEOUT_MILLIS);
        props.put("mail.smtp.writetimeout", SOCKET_TIMEOUT_MILLIS);
        return Session.getInstance(props);
    }

    /**
     * Angus Mail as a client of Postern's mail proxy: {@code imap} and {@code smtp} with STARTTLS
     * required, {@code imaps} and {@code smtps} with TLS from the first byte, all trusting only
     * {@code trusted} and checking that the certificate names the host; SMTP authenticates. A
     * connect is bounded by the usual timeout, a read by {@code readTimeout}. The caller adds what
     * its test needs (an SMTP mechanism, say) before {@code Session.getInstance}.
     */
    public static Properties proxy(SSLSocketFactory trusted, Duration readTimeout) {
        Properties props = new Properties();
        for (String protocol : List.of("imap", "imaps", "smtp", "smtps")) {
            props.put("mail." + protocol + ".ssl.socketFactory", trusted);
            props.put("mail." + protocol + ".ssl.checkserveridentity", "true");
            props.put("mail." + protocol + ".connectiontimeout", SOCKET_TIMEOUT_MILLIS);
            props.put("mail." + protocol + ".timeout", String.valueOf(readTimeout.toMillis()));
        }
        for (String protocol : List.of("imap", "smtp")) {
            props.put("mail." + protocol + ".starttls.enable", "true");
            props.put("mail." + protocol + ".starttls.required", "true");
        }
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtps.auth", "true");
        return props;
    }
}
