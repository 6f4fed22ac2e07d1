package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestDovecot;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A relayed session does not outlive what it logged in with: with real peers (OpenBao, the identity
 * provider, Dovecot over TLS), IMAP and SMTP sessions through the proxy are closed within a second
 * of a revoke through the API (an app password, the mailbox, an API key), IMAP with an untagged
 * {@code * BYE} saying why, and audited; the other sessions, of the same mailbox with another
 * credential and of other mailboxes, go on, and the mailbox's session count goes back to zero.
 */
@Timeout(120)
class MailSessionRevocationIntegrationTests extends ApiIntegrationTest {

    private static final TestMailCertificate CERTIFICATE = TestMailCertificate.create();

    /** From the revoke's answer to the end of the connection: about a second, with a margin for a busy machine. */
    private static final Duration CLOSED_WITHIN = Duration.ofSeconds(2);

    private static TestIdentityProvider idp;

    private static TestDovecot dovecot;

    @Autowired
    private MailProxyServer proxy;

    @DynamicPropertySource
    static void mailProxy(DynamicPropertyRegistry registry) {
        CERTIFICATE.enableProxy(registry, TestDovecot.shared());
    }

    @BeforeAll
    static void peers() {
        idp = TestIdentityProvider.shared();
        dovecot = TestDovecot.shared();
    }

    @Test
    void anImapSessionInIdleIsClosedWithByeWithinASecondOfItsAppPasswordsRevokeAndNoOtherSessionIs() throws Exception {
        String app = mailApp("revoke app password");
        String address = connect(app, "idle");
        String account = accountId(address);
        Answer phone = appPassword(account, "phone");
        Answer laptop = appPassword(account, "laptop");
        String otherAddress = connect(app, "other");

        try (ProxyLines idling = imap(address, phone.text("password"));
                ProxyLines sameMailbox = imap(address, laptop.text("password"));
                ProxyLines otherMailbox = imap(otherAddress, createClientKey("client", "[\"" + app + "\"]"))) {
            idling.send("s SELECT INBOX");
            assertThat(idling.readTagged("s")).startsWith("s OK");
            idling.send("i IDLE");
            assertThat(idling.read()).startsWith("+ ");
            assertThat(openSessions(account)).isEqualTo(2);

            assertThat(call("DELETE", "/v1/accounts/" + account + "/app-passwords/" + phone.text("id"), ADMIN_KEY, null)
                .status()).isEqualTo(204);
            long revoked = System.nanoTime();

            assertThat(idling.linesUntilClosed(CLOSED_WITHIN))
                .containsExactly("* BYE Postern closed this session: the app password it logged in with was revoked");
            assertThat(Duration.ofNanos(System.nanoTime() - revoked)).isLessThan(CLOSED_WITHIN);
            assertStillServed(sameMailbox);
            assertStillServed(otherMailbox);
            awaitOpenSessions(account, 1);
        }
        awaitOpenSessions(account, 0);
        assertThat(closeEvents(account, 1)).singleElement().satisfies(event -> {
            assertThat(event.path("actor").asString()).isEqualTo("system");
            assertThat(event.path("outcome").asString()).isEqualTo("success");
            assertThat(event.path("details").path("reason").asString()).isEqualTo("app_password_revoked");
            assertThat(event.path("details").path("logged_in_with").asString()).isEqualTo(phone.text("id"));
            assertThat(event.path("details").path("protocol").asString()).isEqualTo("imap");
            assertThat(event.toString()).doesNotContain(phone.text("password"));
        });
    }

    @Test
    void revokingTheMailboxClosesItsImapAndSmtpSessionsAndNotAnotherMailboxs() throws Exception {
        String app = mailApp("revoke mailbox");
        String key = createClientKey("client", "[\"" + app + "\"]");
        String address = connect(app, "revoked");
        String account = accountId(address);
        String password = appPassword(account, "printer").text("password");
        String otherAddress = connect(app, "kept");

        try (ProxyLines reading = imap(address, key); ProxyLines sending = smtp(address, password);
                ProxyLines otherMailbox = imap(otherAddress, key)) {
            reading.send("s SELECT INBOX");
            assertThat(reading.readTagged("s")).startsWith("s OK");
            assertThat(openSessions(account)).isEqualTo(2);

            assertThat(call("DELETE", "/v1/accounts/" + account, ADMIN_KEY, null).status()).isEqualTo(200);
            long revoked = System.nanoTime();

            assertThat(reading.linesUntilClosed(CLOSED_WITHIN))
                .containsExactly("* BYE Postern closed this session: the mailbox was revoked in Postern");
            assertThat(sending.linesUntilClosed(CLOSED_WITHIN)).as("SMTP is just closed").isEmpty();
            assertThat(Duration.ofNanos(System.nanoTime() - revoked)).isLessThan(CLOSED_WITHIN);
            awaitOpenSessions(account, 0);
            assertStillServed(otherMailbox);
            assertThat(openSessions(accountId(otherAddress))).isEqualTo(1);
        }
        assertThat(closeEvents(account, 2)).extracting(event -> event.path("details").path("protocol").asString()
                + " " + event.path("details").path("reason").asString())
            .containsExactlyInAnyOrder("imap account_revoked", "smtp account_revoked");
    }

    @Test
    void revokingAnApiKeyClosesTheSessionsItLoggedInToEveryMailboxAndNotAnAppPasswordsSession() throws Exception {
        String app = mailApp("revoke key");
        Answer client = post("/v1/clients", ADMIN_KEY,
                "{\"name\":\"mail program\",\"role\":\"client\",\"allowed_apps\":[\"" + app + "\"]}");
        assertThat(client.status()).as(client.body()).isEqualTo(201);
        String key = client.text("key");
        String first = connect(app, "first");
        String second = connect(app, "second");
        String password = appPassword(accountId(first), "scanner").text("password");

        try (ProxyLines one = imap(first, key); ProxyLines two = smtp(second, key); ProxyLines scanner = imap(first, password)) {
            assertThat(call("DELETE", "/v1/clients/" + client.text("id"), ADMIN_KEY, null).status()).isEqualTo(200);

            assertThat(one.linesUntilClosed(CLOSED_WITHIN))
                .containsExactly("* BYE Postern closed this session: the API key it logged in with was revoked");
            assertThat(two.linesUntilClosed(CLOSED_WITHIN)).isEmpty();
            assertStillServed(scanner);
            awaitOpenSessions(accountId(second), 0);
            awaitOpenSessions(accountId(first), 1);
        }
        assertThat(closeEvents(accountId(first), 1)).singleElement()
            .satisfies(event -> assertThat(event.path("details").path("reason").asString()).isEqualTo("client_revoked"));
    }

    /** An app whose mailboxes the proxy reaches at Dovecot over implicit TLS. */
    private String mailApp(String name) {
        // localhost, not 127.0.0.1: the proxy checks that Dovecot's certificate names the host it connects to.
        return registerIdpMailApp("Sessions " + name, URI.create("imaps://localhost:" + dovecot.imapsPort()),
                URI.create("smtps://localhost:" + dovecot.smtpsPort()));
    }

    /** A new mailbox connected to {@code app} by its owner; its address. */
    private String connect(String app, String name) {
        String address = name + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.nextTokenFor(address, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        new OwnerBrowser(idp).open(URI.create(link.text("url")));
        return address;
    }

    private Answer appPassword(String account, String name) {
        Answer created = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{\"name\":\"" + name + "\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created;
    }

    /** An IMAP session through the proxy's implicit-TLS listener, logged in. */
    private ProxyLines imap(String address, String password) throws IOException {
        ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS));
        imap.read();
        imap.send("a LOGIN " + address + " " + password);
        assertThat(imap.readTagged("a")).as("Dovecot log:\n%s", dovecot.log()).startsWith("a OK");
        return imap;
    }

    /** An SMTP session through the proxy's implicit-TLS listener, authenticated and between commands. */
    private ProxyLines smtp(String address, String password) throws IOException {
        ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS));
        smtp.read();
        smtp.send("EHLO test");
        smtp.readSmtpReply();
        smtp.send("AUTH PLAIN " + Base64.getEncoder()
            .encodeToString(("\0" + address + "\0" + password).getBytes(StandardCharsets.UTF_8)));
        assertThat(smtp.read()).as("Dovecot log:\n%s", dovecot.log()).startsWith("235 ");
        return smtp;
    }

    private static void assertStillServed(ProxyLines imap) throws IOException {
        imap.send("n NOOP");
        assertThat(imap.readTagged("n")).startsWith("n OK");
    }

    private int openSessions(String account) {
        return get("/v1/accounts/" + account + "/mail-sessions", ADMIN_KEY).json().path("open_sessions").asInt();
    }

    private void awaitOpenSessions(String account, int expected) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(5);
        while (openSessions(account) != expected && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
        }
        assertThat(openSessions(account)).as("open sessions of " + account).isEqualTo(expected);
    }

    /** The {@code mail_proxy.session_close} events of {@code account}, once {@code expected} are flushed. */
    private List<JsonNode> closeEvents(String account, int expected) throws InterruptedException {
        List<JsonNode> events = new ArrayList<>();
        Instant deadline = Instant.now().plusSeconds(5);
        do {
            events.clear();
            get("/v1/audit?action=mail_proxy.session_close&limit=50&object_id=" + account, ADMIN_KEY).json()
                .path("items")
                .forEach(events::add);
            if (events.size() >= expected) {
                return events;
            }
            Thread.sleep(200);
        }
        while (Instant.now().isBefore(deadline));
        return events;
    }
}
