package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestDovecot;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code postern.mail-proxy.pre-auth-timeout} is a deadline for the whole way to a login, not a
 * timeout per read: a client that trickles a byte at a time (each read well within the timeout),
 * in a command line or in the TLS handshake, is cut off at the deadline all the same, so that a few
 * hundred such connections cannot hold every place of {@code max-pre-login-connections} for good.
 * A session that logged in is not cut off by it.
 */
class MailProxyLoginDeadlineIntegrationTests extends ApiIntegrationTest {

    private static final TestMailCertificate CERTIFICATE = TestMailCertificate.create();

    private static final Duration PRE_AUTH_TIMEOUT = Duration.ofSeconds(2);

    @Autowired
    private MailProxyServer proxy;

    @DynamicPropertySource
    static void mailProxy(DynamicPropertyRegistry registry) {
        CERTIFICATE.enableProxy(registry, TestDovecot.shared());
        registry.add("postern.mail-proxy.pre-auth-timeout", () -> PRE_AUTH_TIMEOUT.toSeconds() + "s");
    }

    @Test
    void aClientTricklingAByteAtATimeIsCutOffAtThePreAuthDeadline() throws Exception {
        // An IMAP command line, an SMTP command line, and a TLS handshake (a record header announcing 512 bytes).
        assertCutOffWhileTrickling(MailProxyServer.Listener.IMAP, "a1 NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".getBytes());
        assertCutOffWhileTrickling(MailProxyServer.Listener.SUBMISSION, "EHLO xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".getBytes());
        byte[] handshake = new byte[60];
        System.arraycopy(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03}, 0, handshake, 0, 11);
        assertCutOffWhileTrickling(MailProxyServer.Listener.IMAPS, handshake);
    }

    private void assertCutOffWhileTrickling(MailProxyServer.Listener listener, byte[] trickle) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", proxy.port(listener))) {
            long started = System.nanoTime();
            InputStream in = socket.getInputStream();
            // Reads (and drops the greeting) until the proxy closes the connection.
            CompletableFuture<Long> closedAfter = CompletableFuture.supplyAsync(() -> {
                try {
                    while (in.read() != -1) {
                        // the greeting
                    }
                }
                catch (IOException ex) {
                    // a reset closes it as well
                }
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            });
            OutputStream out = socket.getOutputStream();
            try {
                for (int i = 0; i < trickle.length && !closedAfter.isDone(); i++) {
                    out.write(trickle[i]);
                    out.flush();
                    Thread.sleep(250);
                }
            }
            catch (IOException ex) {
                // the proxy closed it while we wrote
            }
            assertThat(closedAfter).as(listener + ": the proxy closed a connection that trickles a byte every 250 ms")
                .succeedsWithin(Duration.ofSeconds(3));
            assertThat(closedAfter.get()).as(listener + ": closed at the deadline, in ms")
                .isBetween(PRE_AUTH_TIMEOUT.toMillis() - 100, PRE_AUTH_TIMEOUT.toMillis() + 2_000);
        }
    }

    @Test
    void aSessionThatLoggedInOutlivesThePreAuthDeadline() throws Exception {
        TestDovecot dovecot = TestDovecot.shared();
        TestIdentityProvider idp = TestIdentityProvider.shared();
        String address = "deadline-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String app = registerIdpMailApp("Mail proxy deadline", URI.create("imaps://localhost:" + dovecot.imapsPort()),
                URI.create("smtps://localhost:" + dovecot.smtpsPort()));
        String key = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.nextTokenFor(address, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        new OwnerBrowser(idp).open(URI.create(link.text("url")));

        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send("a1 LOGIN " + address + " " + key);
            assertThat(imap.readTagged("a1")).startsWith("a1 OK");
            Thread.sleep(PRE_AUTH_TIMEOUT.toMillis() + 1_500);
            imap.send("a2 NOOP");
            assertThat(imap.readTagged("a2")).startsWith("a2 OK");
            imap.send("a3 LOGOUT");
            assertThat(imap.readTagged("a3")).startsWith("a3 OK");
        }
    }
}
