package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.SharedFileInputStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.MailClients;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestDovecot;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The mail proxy with real peers: mail programs that know only a user name and a password (Angus
 * Mail, Python's imaplib and smtplib, raw protocol lines) log in to Postern's IMAP and SMTP
 * listeners with a mailbox address and a client key; Postern logs in to the real Dovecot with the
 * mailbox's token from the real identity provider and relays. Both sides are TLS: the clients trust
 * a certificate made for the test, the proxy verifies Dovecot's certificate against the JVM's CAs
 * plus the test CA ({@code upstream-ssl-bundle}), with implicit TLS or STARTTLS as the app's
 * {@code imap_endpoint} and {@code smtp_endpoint} say.
 */
@Timeout(120)
class MailProxyIntegrationTests extends ApiIntegrationTest {

    private static final TestMailCertificate CERTIFICATE = TestMailCertificate.create();

    /** Low, so that the test of the cap can reach it; no other test holds more waiting connections at once. */
    private static final int MAX_PRE_LOGIN = 8;

    private static TestIdentityProvider idp;

    private static TestDovecot dovecot;

    @Autowired
    private MailProxyServer proxy;

    @Autowired
    private AccountRepository accounts;

    @Autowired
    private ApplicationEventPublisher events;

    @DynamicPropertySource
    static void mailProxy(DynamicPropertyRegistry registry) {
        CERTIFICATE.enableProxy(registry, TestDovecot.shared());
        registry.add("postern.mail-proxy.max-sessions-per-mailbox", () -> "2");
        registry.add("postern.mail-proxy.max-pre-login-connections", () -> String.valueOf(MAX_PRE_LOGIN));
        // Every test logs in from 127.0.0.1, a dozen of them wrongly on purpose: at the default 10 the
        // address would be refused for 5 minutes. The limit itself: MailLoginAuditIntegrationTests.
        registry.add("postern.mail-proxy.max-failed-logins", () -> "1000");
    }

    @BeforeAll
    static void peers() {
        idp = TestIdentityProvider.shared();
        dovecot = TestDovecot.shared();
    }

    /** A mailbox connected through a new app, and a client key allowed for that app. */
    private record Mailbox(String address, String app, String key) {
    }

    /** How the proxy reaches Dovecot for a mailbox: TLS from the first byte, or STARTTLS. */
    private enum Upstream {
        IMPLICIT_TLS, STARTTLS
    }

    private Mailbox connectedMailbox(String name, List<String> firstTokenScopes, Upstream upstream) {
        String address = name + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        // localhost, not 127.0.0.1: the proxy checks that Dovecot's certificate names the host it connects to.
        String app = registerIdpMailApp("Mail proxy " + name, upstream == Upstream.IMPLICIT_TLS
                ? URI.create("imaps://localhost:" + dovecot.imapsPort()) : URI.create("imap://localhost:" + dovecot.imapPort()),
                upstream == Upstream.IMPLICIT_TLS ? URI.create("smtps://localhost:" + dovecot.smtpsPort())
                        : URI.create("smtp://localhost:" + dovecot.smtpPort()));
        String key = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.nextTokenFor(address, firstTokenScopes, Duration.ofHours(1));
        new OwnerBrowser(idp).open(URI.create(link.text("url")));
        return new Mailbox(address, app, key);
    }

    private Mailbox connectedMailbox(String name) {
        return connectedMailbox(name, List.of(TestIdentityProvider.MAIL_SCOPE), Upstream.IMPLICIT_TLS);
    }

    @Test
    void imapsWithAClientKeyListsInboxAppendsAndFetchesAMessageFromDovecot() throws Exception {
        Mailbox mailbox = connectedMailbox("imaps");
        String marker = "proxy-append-" + UUID.randomUUID();
        Session session = Session.getInstance(angusMail(Duration.ofSeconds(10)));
        Store store = session.getStore("imaps");
        store.connect("127.0.0.1", proxy.port(MailProxyServer.Listener.IMAPS), mailbox.address(), mailbox.key());
        try {
            assertThat(Arrays.stream(store.getDefaultFolder().list()).map(Folder::getName)).contains("INBOX");
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(mailbox.address()));
            message.setSubject(marker);
            message.setText("appended through Postern's IMAP proxy\n");
            inbox.appendMessages(new Message[] {message});
            Message[] found = inbox.getMessages();
            assertThat(found).anySatisfy(m -> {
                assertThat(m.getSubject()).isEqualTo(marker);
                assertThat((String) m.getContent()).contains("appended through Postern's IMAP proxy");
            });
            inbox.close(false);
        }
        finally {
            store.close();
        }
        assertThat(auditEvents("success", accountId(mailbox.address())))
            .anySatisfy(event -> assertThat(event.path("details").path("protocol").asString()).isEqualTo("imap"));
    }

    @Test
    void imapWithStartTlsAndTheLoginCommandSelectsInboxInPythonsImaplib() throws Exception {
        Mailbox mailbox = connectedMailbox("starttls", List.of(TestIdentityProvider.MAIL_SCOPE), Upstream.STARTTLS);
        String out = python("imap-starttls-login", proxy.port(MailProxyServer.Listener.IMAP), mailbox, null);
        assertThat(out).contains("LOGINDISABLED", "STARTTLS", "LOGIN OK", "SELECT OK", "DONE");
    }

    @Test
    void anAppPasswordOpensItsMailboxAndStopsWhenRevoked() throws Exception {
        Mailbox mailbox = connectedMailbox("apppw");
        String account = accountId(mailbox.address());
        Answer created = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{\"name\":\"printer\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        Mailbox withPassword = new Mailbox(mailbox.address(), mailbox.app(), created.text("password"));

        String out = python("imap-starttls-login", proxy.port(MailProxyServer.Listener.IMAP), withPassword, null);
        assertThat(out).contains("LOGIN OK", "SELECT OK", "DONE");
        assertThat(get("/v1/audit?action=mail_proxy.login&limit=50", ADMIN_KEY).body()).contains(created.text("id"))
            .doesNotContain(created.text("password"));

        assertThat(call("DELETE", "/v1/accounts/" + account + "/app-passwords/" + created.text("id"), ADMIN_KEY, null)
            .status()).isEqualTo(204);
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            assertThat(imap.read()).startsWith("* OK");
            imap.send("a1 LOGIN " + mailbox.address() + " " + withPassword.key());
            assertThat(imap.read()).isEqualTo("a1 NO [AUTHENTICATIONFAILED] Invalid user name or password.");
        }
    }

    @Test
    void imapsAuthenticatePlainWithoutSaslIrListsFoldersInPythonsImaplib() throws Exception {
        Mailbox mailbox = connectedMailbox("plain");
        String out = python("imap-authenticate-plain", proxy.port(MailProxyServer.Listener.IMAPS), mailbox, null);
        assertThat(out).contains("AUTHENTICATE OK", "LIST OK", "INBOX", "DONE");
    }

    @Test
    void submissionWithStartTlsAndAuthPlainSendsAMessageTheRelaySinkReceives() throws Exception {
        Mailbox mailbox = connectedMailbox("submission", List.of(TestIdentityProvider.MAIL_SCOPE), Upstream.STARTTLS);
        String marker = "proxy-submission-" + UUID.randomUUID();
        Properties props = angusMail(Duration.ofSeconds(10));
        props.put("mail.smtp.auth.mechanisms", "PLAIN");
        Session session = Session.getInstance(props);
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress(mailbox.address()));
        message.setRecipients(Message.RecipientType.TO, "bob@example.test");
        message.setSubject(marker);
        message.setText("sent through Postern's SMTP proxy\n");
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("127.0.0.1", proxy.port(MailProxyServer.Listener.SUBMISSION), mailbox.address(), mailbox.key());
            transport.sendMessage(message, message.getAllRecipients());
        }
        assertThat(dovecot.awaitRelayed(marker, Duration.ofSeconds(10))).as("Dovecot log:\n%s", dovecot.log())
            .hasValueSatisfying(relayed -> assertThat(relayed).contains("X-MailFrom: " + mailbox.address()));
    }

    @Test
    void smtpsWithAuthLoginSendsAMessageFromPythonsSmtplib() throws Exception {
        Mailbox mailbox = connectedMailbox("smtps");
        String marker = "proxy-smtps-" + UUID.randomUUID();
        String out = python("smtps-auth-login", proxy.port(MailProxyServer.Listener.SMTPS), mailbox, marker);
        assertThat(out).contains("AUTH LOGIN 235", "DONE");
        assertThat(dovecot.awaitRelayed(marker, Duration.ofSeconds(10))).as("Dovecot log:\n%s", dovecot.log()).isPresent();
    }

    @Test
    void credentialsBeforeTlsAreRefusedEvenWhenValid() throws Exception {
        Mailbox mailbox = connectedMailbox("plaintext");
        try (ProxyLines imap = ProxyLines.plain(proxy.port(MailProxyServer.Listener.IMAP))) {
            assertThat(imap.read()).startsWith("* OK").contains("LOGINDISABLED", "STARTTLS").doesNotContain("AUTH=PLAIN");
            imap.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
            assertThat(imap.read()).startsWith("a1 NO [PRIVACYREQUIRED]");
            imap.send("a2 AUTHENTICATE PLAIN " + plain(mailbox.address(), mailbox.key()));
            assertThat(imap.read()).startsWith("a2 NO [PRIVACYREQUIRED]");
        }
        try (ProxyLines smtp = ProxyLines.plain(proxy.port(MailProxyServer.Listener.SUBMISSION))) {
            assertThat(smtp.read()).startsWith("220 ");
            smtp.send("EHLO test");
            List<String> ehlo = smtp.readSmtpReply();
            assertThat(ehlo).contains("250-STARTTLS").noneMatch(line -> line.contains("AUTH"));
            smtp.send("AUTH PLAIN " + plain(mailbox.address(), mailbox.key()));
            assertThat(smtp.read()).startsWith("530 5.7.0");
        }
        assertThat(auditEvents("success", accountId(mailbox.address()))).isEmpty();
    }

    @Test
    void aWrongPasswordOrAKeyNotAllowedForTheMailboxIsRefusedWithTheProtocolsErrorAndAudited() throws Exception {
        Mailbox mailbox = connectedMailbox("refused");
        Mailbox other = connectedMailbox("other");
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            assertThat(imap.read()).startsWith("* OK").contains("AUTH=PLAIN").doesNotContain("LOGINDISABLED");
            imap.send("a1 LOGIN " + mailbox.address() + " pst_wrong_" + UUID.randomUUID().toString().replace("-", ""));
            assertThat(imap.read()).isEqualTo("a1 NO [AUTHENTICATIONFAILED] Invalid user name or password.");
            imap.send("a2 LOGIN " + mailbox.address() + " " + other.key());
            assertThat(imap.read()).isEqualTo("a2 NO [AUTHENTICATIONFAILED] Invalid user name or password.");
        }
        try (ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS))) {
            assertThat(smtp.read()).startsWith("220 ");
            smtp.send("EHLO test");
            assertThat(smtp.readSmtpReply()).contains("250-AUTH PLAIN LOGIN");
            smtp.send("AUTH PLAIN " + plain(mailbox.address(), other.key()));
            assertThat(smtp.read()).startsWith("535 5.7.8");
        }
        List<JsonNode> failures = auditEvents("failure", mailbox.address());
        assertThat(failures).extracting(event -> event.path("details").path("reason").asString())
            .contains("invalid_credentials", "mailbox_not_allowed");
        assertThat(failures).allSatisfy(event -> {
            assertThat(event.path("details").path("remote_address").asString()).isEqualTo("127.0.0.1");
            assertThat(event.toString()).doesNotContain(other.key());
        });
    }

    @Test
    void aTokenDovecotRefusesIsRefreshedOnceAndTheLoginThenSucceeds() throws Exception {
        // The token stored at connect lacks the mail scope, so Dovecot refuses it; the refresh brings a good one.
        Mailbox mailbox = connectedMailbox("refresh", List.of("openid"), Upstream.IMPLICIT_TLS);
        idp.nextTokenFor(mailbox.address(), List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
            assertThat(imap.readTagged("a1")).as("Dovecot log:\n%s", dovecot.log()).startsWith("a1 OK");
            imap.send("a2 SELECT INBOX");
            assertThat(imap.readTagged("a2")).startsWith("a2 OK");
            imap.send("a3 LOGOUT");
            assertThat(imap.readTagged("a3")).startsWith("a3 OK");
        }
    }

    @Test
    void aMailboxAtItsSessionLimitIsRefusedWithAPlainReasonTheAdminSeesItsSessionsAndAClosedOneFreesAPlace() throws Exception {
        Mailbox mailbox = connectedMailbox("limit");
        String account = accountId(mailbox.address());
        String limit = "This mailbox already has 2 sessions open through Postern, its limit; close one and try again.";
        try (ProxyLines first = loggedIn(mailbox); ProxyLines second = loggedIn(mailbox)) {
            Answer sessions = get("/v1/accounts/" + account + "/mail-sessions", ADMIN_KEY);
            assertThat(sessions.status()).as(sessions.body()).isEqualTo(200);
            assertThat(sessions.json().path("open_sessions").asInt()).isEqualTo(2);
            assertThat(sessions.json().path("max_sessions").asInt()).isEqualTo(2);
            assertThat(sessions.json().path("mail_proxy_enabled").asBoolean()).isTrue();
            assertThat(get("/v1/accounts/" + account + "/mail-sessions", mailbox.key()).status()).isEqualTo(403);

            try (ProxyLines third = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
                third.read();
                third.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
                assertThat(third.read()).isEqualTo("a1 NO [LIMIT] " + limit);
            }
            try (ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS))) {
                smtp.read();
                smtp.send("EHLO test");
                smtp.readSmtpReply();
                smtp.send("AUTH PLAIN " + plain(mailbox.address(), mailbox.key()));
                assertThat(smtp.read()).isEqualTo("454 4.7.0 " + limit);
            }
            first.send("z LOGOUT");
            assertThat(first.readTagged("z")).startsWith("z OK");
        }
        Instant deadline = Instant.now().plusSeconds(10);
        while (get("/v1/accounts/" + account + "/mail-sessions", ADMIN_KEY).json().path("open_sessions").asInt() > 0
                && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
        }
        assertThat(get("/v1/accounts/" + account + "/mail-sessions", ADMIN_KEY).json().path("open_sessions").asInt()).isZero();
        try (ProxyLines again = loggedIn(mailbox)) {
            again.send("z LOGOUT");
            assertThat(again.readTagged("z")).startsWith("z OK");
        }
        assertThat(auditEvents("failure", account)).extracting(event -> event.path("details").path("reason").asString())
            .contains("session_limit");
        String metrics = get("/actuator/prometheus", ADMIN_KEY).body();
        assertThat(metrics).contains("postern_mail_proxy_logins_total{outcome=\"session_limit\"}")
            .containsPattern("postern_mail_proxy_upstream_login_seconds_count\\{outcome=\"success\",protocol=\"imap\"\\} [1-9]")
            .containsPattern("postern_mail_proxy_bytes_total\\{direction=\"to_client\"\\} [1-9]");
    }

    @Test
    void beforeLoginALineTooLongOrTooManyCommandsEndTheConnectionWithTheProtocolsAnswer() throws Exception {
        String longLine = "a1 NOOP " + "x".repeat(9000);
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send(longLine);
            assertThat(imap.read()).isEqualTo("* BYE Command line too long");
            assertThat(imap.linesUntilClosed(Duration.ofSeconds(15))).as("then the connection is closed").isEmpty();
        }
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            for (int i = 1; i <= 30; i++) {
                imap.send("n" + i + " NOOP");
                assertThat(imap.read()).isEqualTo("n" + i + " OK NOOP completed");
            }
            imap.send("n31 NOOP");
            assertThat(imap.read()).isEqualTo("* BYE Too many commands or too long without logging in");
            assertThat(imap.linesUntilClosed(Duration.ofSeconds(15))).isEmpty();
        }
        try (ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS))) {
            smtp.read();
            smtp.send("EHLO " + "x".repeat(9000));
            assertThat(smtp.read()).isEqualTo("500 5.5.2 Line too long");
            assertThat(smtp.linesUntilClosed(Duration.ofSeconds(15))).isEmpty();
        }
        try (ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS))) {
            smtp.read();
            for (int i = 1; i <= 30; i++) {
                smtp.send("NOOP");
                assertThat(smtp.read()).isEqualTo("250 2.0.0 OK");
            }
            smtp.send("NOOP");
            assertThat(smtp.read()).isEqualTo("421 4.7.0 Too many commands or too long without logging in");
            assertThat(smtp.linesUntilClosed(Duration.ofSeconds(15))).isEmpty();
        }
    }

    @Test
    void curlOverImapsAppendsAMessageThatAnIdlingClientSeesArrive() throws Exception {
        Mailbox mailbox = connectedMailbox("idle");
        try (ProxyLines idler = loggedIn(mailbox)) {
            idler.send("s1 SELECT INBOX");
            assertThat(idler.readTagged("s1")).startsWith("s1 OK");
            idler.send("i1 IDLE");
            assertThat(idler.read()).startsWith("+");
            Path message = Files.createTempFile("postern-idle-", ".eml");
            Files.writeString(message, "From: " + mailbox.address() + "\r\nSubject: idle\r\n\r\ndelivered meanwhile\r\n");
            Curl append = curl("--ssl-reqd", "-T", message.toString(),
                    "imaps://127.0.0.1:" + proxy.port(MailProxyServer.Listener.IMAPS) + "/INBOX", "-u",
                    mailbox.address() + ":" + mailbox.key());
            assertThat(append.exit()).as(append.output()).isZero();
            String update;
            do {
                update = idler.read();
            }
            while (!update.endsWith(" EXISTS"));
            assertThat(update).isEqualTo("* 1 EXISTS");
            idler.send("DONE");
            assertThat(idler.readTagged("i1")).startsWith("i1 OK");
        }
    }

    @Test
    void angusMailIdlingOverImapsSeesAMessageAnotherAngusSessionAppendsOverStartTls() throws Exception {
        Mailbox mailbox = connectedMailbox("angus-idle");
        Session session = Session.getInstance(angusMail(Duration.ofSeconds(60)));
        Store idling = session.getStore("imaps");
        idling.connect("127.0.0.1", proxy.port(MailProxyServer.Listener.IMAPS), mailbox.address(), mailbox.key());
        Store appending = session.getStore("imap");
        appending.connect("127.0.0.1", proxy.port(MailProxyServer.Listener.IMAP), mailbox.address(), mailbox.key());
        try {
            org.eclipse.angus.mail.imap.IMAPFolder inbox = (org.eclipse.angus.mail.imap.IMAPFolder) idling.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            java.util.concurrent.CompletableFuture<Integer> added = new java.util.concurrent.CompletableFuture<>();
            inbox.addMessageCountListener(new jakarta.mail.event.MessageCountAdapter() {
                @Override
                public void messagesAdded(jakarta.mail.event.MessageCountEvent event) {
                    added.complete(event.getMessages().length);
                }
            });
            Thread idler = Thread.ofVirtual().start(() -> {
                try {
                    inbox.idle(true);
                }
                catch (jakarta.mail.MessagingException ex) {
                    added.completeExceptionally(ex);
                }
            });
            Thread.sleep(500);
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(mailbox.address()));
            message.setSubject("delivered while idling");
            message.setText("seen through IDLE\n");
            Folder target = appending.getFolder("INBOX");
            target.appendMessages(new Message[] {message});
            assertThat(added.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            idler.join(30_000);
            assertThat(inbox.getMessage(inbox.getMessageCount()).getSubject()).isEqualTo("delivered while idling");
            inbox.close(false);
        }
        finally {
            idling.close();
            appending.close();
        }
    }

    @Test
    @Timeout(600)
    void a25MegabyteMessageAppendedByCurlAndSentBySmtplibArrivesByteForByte() throws Exception {
        Mailbox mailbox = connectedMailbox("large", List.of(TestIdentityProvider.MAIL_SCOPE), Upstream.STARTTLS);
        String marker = "proxy-large-" + UUID.randomUUID();
        Path message = largeMessage(mailbox.address(), marker, 25 * 1024 * 1024);

        Curl append = curl("--ssl-reqd", "-T", message.toString(),
                "imaps://127.0.0.1:" + proxy.port(MailProxyServer.Listener.IMAPS) + "/INBOX", "-u",
                mailbox.address() + ":" + mailbox.key());
        assertThat(append.exit()).as(append.output()).isZero();
        assertOnlyMessageInInboxIs(mailbox, message);

        String sent = python("smtp-starttls-send-file", proxy.port(MailProxyServer.Listener.SUBMISSION), mailbox,
                message.toString());
        assertThat(sent).contains("LOGIN 235", "DONE");
        assertRelayedBodyIs(marker, message);
    }

    @Test
    @Timeout(600)
    void a25MegabyteMessageAppendedAndSentByAngusMailArrivesByteForByte() throws Exception {
        Mailbox mailbox = connectedMailbox("large-angus");
        String marker = "proxy-large-angus-" + UUID.randomUUID();
        Path file = largeMessage(mailbox.address(), marker, 25 * 1024 * 1024);
        Session session = Session.getInstance(angusMail(Duration.ofSeconds(120)));
        // Parsed, not built: Angus writes the file's headers and body as they are (no saveChanges), and
        // the body stays in the file rather than in the heap.
        try (SharedFileInputStream in = new SharedFileInputStream(file.toFile())) {
            MimeMessage message = new MimeMessage(session, in);
            Store store = session.getStore("imaps");
            store.connect("127.0.0.1", proxy.port(MailProxyServer.Listener.IMAPS), mailbox.address(), mailbox.key());
            try {
                store.getFolder("INBOX").appendMessages(new Message[] {message});
            }
            finally {
                store.close();
            }
            assertOnlyMessageInInboxIs(mailbox, file);

            try (Transport transport = session.getTransport("smtp")) {
                transport.connect("127.0.0.1", proxy.port(MailProxyServer.Listener.SUBMISSION), mailbox.address(),
                        mailbox.key());
                transport.sendMessage(message, InternetAddress.parse("bob@example.test"));
            }
        }
        assertRelayedBodyIs(marker, file);
    }

    @Test
    void curlSendsOverSubmissionWithStartTlsAndIsRefusedWithTheProtocolsErrorForEveryBadPassword() throws Exception {
        Mailbox mailbox = connectedMailbox("curl");
        Mailbox other = connectedMailbox("curl-other");
        String account = accountId(mailbox.address());
        String marker = "proxy-curl-" + UUID.randomUUID();
        Path message = Files.createTempFile("postern-curl-", ".eml");
        Files.writeString(message, "From: " + mailbox.address() + "\r\nTo: bob@example.test\r\nSubject: " + marker
                + "\r\n\r\nsent by curl through Postern\r\n");
        String smtp = "smtp://127.0.0.1:" + proxy.port(MailProxyServer.Listener.SUBMISSION);
        Curl sent = curl("--ssl-reqd", smtp, "--mail-from", mailbox.address(), "--mail-rcpt", "bob@example.test", "-T",
                message.toString(), "-u", mailbox.address() + ":" + mailbox.key());
        assertThat(sent.exit()).as(sent.output()).isZero();
        assertThat(dovecot.awaitRelayed(marker, Duration.ofSeconds(10))).isPresent();

        Answer expiring = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY,
                "{\"name\":\"expiring\",\"expires_at\":\"" + Instant.now().plusSeconds(2) + "\"}");
        assertThat(expiring.status()).as(expiring.body()).isEqualTo(201);
        Answer revoked = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{\"name\":\"revoked\"}");
        assertThat(call("DELETE", "/v1/accounts/" + account + "/app-passwords/" + revoked.text("id"), ADMIN_KEY, null)
            .status()).isEqualTo(204);
        Thread.sleep(2_500);

        String imaps = "imaps://127.0.0.1:" + proxy.port(MailProxyServer.Listener.IMAPS) + "/INBOX";
        for (String password : List.of("ppw_wrong" + UUID.randomUUID().toString().replace("-", ""),
                expiring.text("password"), revoked.text("password"), other.key())) {
            Curl imap = curl("-v", imaps, "-u", mailbox.address() + ":" + password);
            assertThat(imap.exit()).as(imap.output()).isEqualTo(67);
            assertThat(imap.output()).contains("NO [AUTHENTICATIONFAILED] Invalid user name or password.")
                .doesNotContain(password);
            Curl submission = curl("-v", "--ssl-reqd", smtp, "--mail-from", mailbox.address(), "--mail-rcpt",
                    "bob@example.test", "-T", message.toString(), "-u", mailbox.address() + ":" + password);
            assertThat(submission.exit()).as(submission.output()).isEqualTo(67);
            assertThat(submission.output()).contains("535 5.7.8 Invalid user name or password.");
        }
        List<JsonNode> failures = auditEvents("failure", mailbox.address());
        assertThat(failures).extracting(event -> event.path("details").path("reason").asString())
            .contains("invalid_credentials", "mailbox_not_allowed");
        assertThat(failures).hasSizeGreaterThanOrEqualTo(8).allSatisfy(event -> assertThat(event.toString())
            .doesNotContain(expiring.text("password")).doesNotContain(revoked.text("password")).doesNotContain(other.key()));
    }

    @Test
    void aTokenThatExpiredBetweenTwoSessionsIsRefreshedForTheSecond() throws Exception {
        Mailbox mailbox = connectedMailbox("expiring");
        String account = accountId(mailbox.address());
        try (ProxyLines first = loggedIn(mailbox)) {
            first.send("z LOGOUT");
            first.readTagged("z");
        }
        AccountRepository.StoredAccount stored = accounts.find(account).orElseThrow();
        Instant refreshedBefore = stored.account().lastRefreshAt();
        // The access token Postern holds ran out since the first session; its refresh token is still good.
        accounts.save(stored.account(), stored.state(), new AccountRepository.StoredAccessToken(
                stored.accessToken().value(), Instant.now().minusSeconds(1), stored.accessToken().scope()), stored.version());
        events.publishEvent(new AccountChangedEvent(stored.account(), AccountChangedEvent.Change.CONNECTED));
        idp.nextTokenFor(mailbox.address(), List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        try (ProxyLines second = loggedIn(mailbox)) {
            second.send("s SELECT INBOX");
            assertThat(second.readTagged("s")).startsWith("s OK");
        }
        assertThat(accounts.find(account).orElseThrow().account().lastRefreshAt()).as("refreshed at the provider")
            .isAfter(refreshedBefore);
    }

    @Test
    void aMailboxWhoseRefreshTokenTheProviderRefusesGetsAnErrorNamingReauthentication() throws Exception {
        Mailbox mailbox = connectedMailbox("reauth");
        String account = accountId(mailbox.address());
        AccountRepository.StoredAccount stored = accounts.find(account).orElseThrow();
        accounts.save(stored.account(), new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "refresh-token-the-idp-never-issued"),
                new AccountRepository.StoredAccessToken("expired", Instant.now().minusSeconds(1), "mail"), stored.version());
        events.publishEvent(new AccountChangedEvent(stored.account(), AccountChangedEvent.Change.CONNECTED));
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
            assertThat(imap.read()).startsWith("a1 NO [UNAVAILABLE] The mailbox owner must connect this mailbox again");
        }
        try (ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS))) {
            smtp.read();
            smtp.send("EHLO test");
            smtp.readSmtpReply();
            smtp.send("AUTH PLAIN " + plain(mailbox.address(), mailbox.key()));
            assertThat(smtp.read()).startsWith("454 4.7.0 The mailbox owner must connect this mailbox again");
        }
        assertThat(auditEvents("failure", account)).extracting(event -> event.path("details").path("reason").asString())
            .contains("reauth-required");
    }

    @Test
    void aMailServerWhoseCertificateIsNotTrustedIsRefusedWithAPlainReasonAndAudited() throws Exception {
        // The proxy's own listeners as "mail server": their certificate is made for the test and is
        // neither in the JVM's trust store nor in the upstream bundle (Dovecot's CA).
        String address = "untrusted-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String app = registerIdpMailApp("Untrusted upstream",
                URI.create("imaps://localhost:" + proxy.port(MailProxyServer.Listener.IMAPS)),
                URI.create("smtps://localhost:" + proxy.port(MailProxyServer.Listener.SMTPS)));
        String key = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.nextTokenFor(address, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        new OwnerBrowser(idp).open(URI.create(link.text("url")));
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send("a1 LOGIN " + address + " " + key);
            assertThat(imap.read()).startsWith("a1 NO [UNAVAILABLE] The mail server could not be reached or broke off:")
                .containsIgnoringCase("certification path");
        }
        try (ProxyLines smtp = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS))) {
            smtp.read();
            smtp.send("EHLO test");
            smtp.readSmtpReply();
            smtp.send("AUTH PLAIN " + plain(address, key));
            assertThat(smtp.read()).startsWith("454 4.7.0 The mail server could not be reached or broke off:");
        }
        assertThat(auditEvents("failure", accountId(address))).extracting(event -> event.path("details").path("reason").asString())
            .containsOnly("upstream_unreachable");
    }

    /** A message of about {@code size} bytes: headers, then lines of hex (no line starts with a dot), CRLF. */
    private static Path largeMessage(String from, String subject, int size) throws IOException {
        Path file = Files.createTempFile("postern-large-", ".eml");
        java.util.Random random = new java.util.Random(42);
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            out.write(("From: " + from + "\r\nTo: bob@example.test\r\nSubject: " + subject + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            byte[] line = new byte[76];
            long written = 0;
            while (written < size) {
                for (int i = 0; i < 74; i++) {
                    line[i] = (byte) "0123456789abcdef".charAt(random.nextInt(16));
                }
                line[74] = '\r';
                line[75] = '\n';
                out.write(line);
                written += line.length;
            }
        }
        return file;
    }

    private static String body(String message) {
        String lf = message.replace("\r\n", "\n");
        return lf.substring(lf.indexOf("\n\n") + 2).stripTrailing();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Angus Mail properties for the proxy's four listeners, trusting its test certificate. */
    private static Properties angusMail(Duration readTimeout) {
        return MailClients.proxy(CERTIFICATE.clientContext().getSocketFactory(), readTimeout);
    }

    /**
     * Python's {@code imaplib} fetches the first message of the mailbox's INBOX through the proxy
     * (STARTTLS): byte for byte {@code file}, by SHA-256 and size.
     */
    private void assertOnlyMessageInInboxIs(Mailbox mailbox, Path file) throws Exception {
        String fetched = python("imap-starttls-fetch-sha256", proxy.port(MailProxyServer.Listener.IMAP), mailbox, null);
        assertThat(fetched).contains("FETCH OK SHA256 " + sha256(Files.readAllBytes(file)) + " BYTES " + Files.size(file));
    }

    /**
     * The message with {@code marker} reaches Dovecot's relay sink with the body of {@code file}. The
     * sink stores with LF line ends and adds its own headers: the bodies are compared, line by line.
     */
    private static void assertRelayedBodyIs(String marker, Path file) throws Exception {
        String relayed = dovecot.awaitRelayed(marker, Duration.ofSeconds(120))
            .orElseThrow(() -> new AssertionError("not relayed within 120 s; Dovecot log:\n" + dovecot.log()));
        byte[] arrived = body(relayed).getBytes(StandardCharsets.UTF_8);
        byte[] sent = body(Files.readString(file).replace("\r\n", "\n")).getBytes(StandardCharsets.UTF_8);
        assertThat(arrived.length).as("bytes of the relayed body").isEqualTo(sent.length);
        assertThat(sha256(arrived)).as("SHA-256 of the relayed body").isEqualTo(sha256(sent));
    }

    /** What curl said and how it ended. */
    private record Curl(int exit, String output) {
    }

    /** {@code curl} trusting the proxy's test certificate, bounded in time. */
    private static Curl curl(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "300", "--cacert",
                CERTIFICATE.certificate.toString()));
        command.addAll(List.of(arguments));
        Path output = Files.createTempFile("postern-curl-", ".txt");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(320, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("curl did not finish: " + Files.readString(output));
        }
        return new Curl(process.exitValue(), Files.readString(output));
    }

    /** An IMAP session through the proxy, logged in with the mailbox's client key. */
    private ProxyLines loggedIn(Mailbox mailbox) throws IOException {
        ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS));
        imap.read();
        imap.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
        assertThat(imap.readTagged("a1")).as("Dovecot log:\n%s", dovecot.log()).startsWith("a1 OK");
        return imap;
    }


    /** The proxy's login events of {@code outcome} about {@code objectId}, after the audit's flush. */
    private List<JsonNode> auditEvents(String outcome, String objectId) throws InterruptedException {
        List<JsonNode> events = new ArrayList<>();
        Instant deadline = Instant.now().plusSeconds(5);
        do {
            events.clear();
            get("/v1/audit?action=mail_proxy.login&limit=200&outcome=" + outcome + "&object_id=" + objectId, ADMIN_KEY)
                .json().path("items").forEach(events::add);
            if (!events.isEmpty()) {
                return events;
            }
            Thread.sleep(200);
        }
        while (Instant.now().isBefore(deadline));
        return events;
    }

    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String python(String command, int port, Mailbox mailbox, String marker) throws Exception {
        Path script = Path.of(MailProxyIntegrationTests.class.getResource("/mailproxy/python_clients.py").toURI());
        List<String> arguments = new ArrayList<>(List.of("/usr/bin/python3", script.toString(), command, "127.0.0.1",
                String.valueOf(port), CERTIFICATE.certificate.toString(), mailbox.address(), mailbox.key()));
        if (marker != null) {
            arguments.add(marker);
        }
        Path output = Files.createTempFile("postern-python-mail-", ".txt");
        Process process = new ProcessBuilder(arguments).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean finished = process.waitFor(300, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        String out = Files.readString(output);
        assertThat(finished && process.exitValue() == 0).as("python %s:%n%s%nDovecot log:%n%s", command, out, dovecot.log())
            .isTrue();
        return out;
    }

    @Test
    void afterALoginTheNextOneToTheSameMailServerTakesAConnectionOpenedAheadAndAWrongPasswordOpensNone() throws Exception {
        Mailbox mailbox = connectedMailbox("spare");
        Upstreams upstreams = proxy.upstreams();
        awaitNoSpareOpening(upstreams);
        long opened = upstreams.sparesOpened();
        try (ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send("a1 LOGIN " + mailbox.address() + " wrong-" + mailbox.key());
            assertThat(imap.read()).startsWith("a1 NO [AUTHENTICATIONFAILED]");
        }
        Thread.sleep(500);
        assertThat(upstreams.sparesOpened()).as("a client that did not log in makes the proxy connect nowhere").isEqualTo(opened);

        try (ProxyLines first = loggedIn(mailbox)) {
            first.send("z LOGOUT");
            assertThat(first.readTagged("z")).startsWith("z OK");
        }
        Instant deadline = Instant.now().plusSeconds(15);
        while (upstreams.sparesOpened() == opened && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);
        }
        assertThat(upstreams.sparesOpened()).as("a spare opened after the login").isGreaterThan(opened);
        long used = upstreams.sparesUsed();
        try (ProxyLines second = loggedIn(mailbox)) {
            second.send("b SELECT INBOX");
            assertThat(second.readTagged("b")).startsWith("b OK");
            second.send("z LOGOUT");
            assertThat(second.readTagged("z")).startsWith("z OK");
        }
        assertThat(upstreams.sparesUsed()).as("the second login took the spare, and Dovecot served it").isEqualTo(used + 1);
        assertThat(get("/actuator/prometheus", ADMIN_KEY).body())
            .containsPattern("postern_mail_proxy_upstream_spares_total\\{event=\"used\"\\} [1-9]")
            .containsPattern("postern_mail_proxy_login_step_seconds_count\\{protocol=\"imap\",step=\"upstream_open\"\\} [1-9]");
    }

    @Test
    void connectionsThatHaveNotLoggedInAreCappedInTotalAndALoginFreesAPlace() throws Exception {
        Mailbox mailbox = connectedMailbox("prelogin");
        Instant deadline = Instant.now().plusSeconds(15);
        while (proxy.preLoginConnections() > 0 && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);
        }
        assertThat(proxy.preLoginConnections()).as("connections of earlier tests gone").isZero();
        List<ProxyLines> waiting = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_PRE_LOGIN; i++) {
                ProxyLines imap = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS));
                waiting.add(imap);
                assertThat(imap.read()).startsWith("* OK");
            }
            assertThat(proxy.preLoginConnections()).isEqualTo(MAX_PRE_LOGIN);
            // One more: the plaintext listener says why; an implicit-TLS one closes without a handshake.
            try (ProxyLines plain = ProxyLines.plain(proxy.port(MailProxyServer.Listener.IMAP))) {
                assertThat(plain.read()).isEqualTo("* BYE Too many connections are waiting to log in; try again later");
            }
            try (ProxyLines submission = ProxyLines.plain(proxy.port(MailProxyServer.Listener.SUBMISSION))) {
                assertThat(submission.read()).isEqualTo("421 4.7.0 Too many connections are waiting to log in; try again later");
            }
            assertThatThrownBy(() -> ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.SMTPS)).close()).isInstanceOf(IOException.class);

            // A login turns a waiting connection into a session: a place is free again.
            ProxyLines first = waiting.get(0);
            first.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
            assertThat(first.readTagged("a1")).startsWith("a1 OK");
            ProxyLines again = ProxyLines.tls(CERTIFICATE, proxy.port(MailProxyServer.Listener.IMAPS));
            waiting.add(again);
            assertThat(again.read()).startsWith("* OK");
            first.send("z LOGOUT");
            assertThat(first.readTagged("z")).startsWith("z OK");
        }
        finally {
            for (ProxyLines line : waiting) {
                line.close();
            }
        }
        assertThat(get("/actuator/prometheus", ADMIN_KEY).body())
            .containsPattern("postern_mail_proxy_connections_refused_total [1-9]");
    }

    private static void awaitNoSpareOpening(Upstreams upstreams) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(15);
        while (upstreams.openingSpare() && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);
        }
    }
}
