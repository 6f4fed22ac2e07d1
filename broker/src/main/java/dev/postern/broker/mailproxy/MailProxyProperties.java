package dev.postern.broker.mailproxy;

import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The IMAP and SMTP proxy ({@code postern.mail-proxy.*}); off by default.
 *
 * @param enabled whether the listeners run; the default is {@code false}
 * @param bindAddress the address the listeners bind to; the default is {@code 127.0.0.1}
 * @param sslBundle the Spring Boot SSL bundle with the listeners' certificate and key; required
 *        when enabled (reloaded when the bundle's files change and it has {@code reload-on-update})
 * @param imapsPort IMAP with implicit TLS (993 in production); unset: no such listener; 0: any free port
 * @param imapPort IMAP with STARTTLS (143 in production); unset: no such listener; 0: any free port
 * @param smtpsPort SMTP submission with implicit TLS (465); unset: no such listener; 0: any free port
 * @param submissionPort SMTP submission with STARTTLS (587); unset: no such listener; 0: any free port
 * @param plaintextLoginOnLoopback accept credentials before TLS from a loopback address; for tests
 *        only; the default is {@code false}
 * @param minTokenTtl the remaining lifetime a token must have for an upstream login; the default is
 *        5 minutes
 * @param maxLineLength the longest command line accepted before login; the default is 8192 bytes
 * @param maxPreAuthCommands commands a client may send before it has logged in; the default is 30
 * @param preAuthTimeout how long a client may take to log in; the default is 60 seconds
 * @param idleTimeout a relayed session with no byte in either direction for this long is closed;
 *        the default is 31 minutes (IMAP IDLE re-issues within 29)
 * @param upstreamTimeout connect and answer timeout of the upstream server before login; the
 *        default is 15 seconds
 * @param maxSessionsPerMailbox logged-in sessions one mailbox may have open through the proxy; the
 *        default is 20 (Microsoft allows 20 concurrent IMAP connections per mailbox, Gmail 15)
 * @param maxSessions logged-in sessions the proxy holds in total; the default is 2000
 * @param upstreamSslBundle a Spring Boot SSL bundle whose trust store's CAs are trusted for upstream
 *        servers in addition to the JVM's (a private CA); unset: the JVM's trust store alone
 * @param maxPreLoginConnections connections that have not logged in yet the proxy holds in total;
 *        one more is closed at once (after a "try later" answer on a plaintext listener); the
 *        default is 500
 * @param upstreamSpareMaxAge after a login, a connection to the same mail server (TCP and TLS) is
 *        opened ahead for the next login, and closed unused after this long; {@code 0} turns it off;
 *        the default is 10 seconds
 * @param maxFailedLogins failed logins from one client address within {@code failedLoginWindow}
 *        after which that address's logins are refused at once, unchecked, for
 *        {@code failedLoginCooldown} (a credential that logged in recently is still let in); the
 *        default is 10
 * @param failedLoginWindow how long failed logins of one address are counted; the default is 1 minute
 * @param failedLoginCooldown how long an address over its failed logins is refused; the default is 5 minutes
 * @param maxFailedLoginAddresses client addresses whose failed logins are tracked at once (least
 *        recently counted forgotten first); the default is 100000
 */
@ConfigurationProperties("postern.mail-proxy")
public record MailProxyProperties(@DefaultValue("false") boolean enabled, @DefaultValue("127.0.0.1") String bindAddress,
        @Nullable String sslBundle, @Nullable Integer imapsPort, @Nullable Integer imapPort, @Nullable Integer smtpsPort,
        @Nullable Integer submissionPort, @DefaultValue("false") boolean plaintextLoginOnLoopback,
        @DefaultValue("5m") Duration minTokenTtl, @DefaultValue("8192") int maxLineLength,
        @DefaultValue("30") int maxPreAuthCommands, @DefaultValue("60s") Duration preAuthTimeout,
        @DefaultValue("31m") Duration idleTimeout, @DefaultValue("15s") Duration upstreamTimeout,
        @DefaultValue("20") int maxSessionsPerMailbox, @DefaultValue("2000") int maxSessions,
        @Nullable String upstreamSslBundle, @DefaultValue("10s") Duration upstreamSpareMaxAge,
        @DefaultValue("500") int maxPreLoginConnections, @DefaultValue("10") int maxFailedLogins,
        @DefaultValue("1m") Duration failedLoginWindow, @DefaultValue("5m") Duration failedLoginCooldown,
        @DefaultValue("100000") int maxFailedLoginAddresses) {
}
