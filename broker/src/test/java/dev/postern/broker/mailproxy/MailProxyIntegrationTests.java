package dev.postern.broker.mailproxy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
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
 * The mail proxy with real peers: mail programs that know only a user name and a password (Angus
 * Mail, Python's imaplib and smtplib, raw protocol lines) log in to Postern's IMAP and SMTP
 * listeners with a mailbox address and a client key; Postern logs in to the real Dovecot with the
 * mailbox's token from the real identity provider and relays. Dovecot runs without TLS on loopback,
 * so the proxy's upstream is plaintext here ({@code upstream-override.plaintext}, test only); the
 * client side is TLS throughout, with a certificate made for the test.
 */
@Timeout(120)
class MailProxyIntegrationTests extends ApiIntegrationTest {

    private static final TestMailCertificate CERTIFICATE = TestMailCertificate.create();

    private static TestIdentityProvider idp;

    private static TestDovecot dovecot;

    @Autowired
    private MailProxyServer proxy;

    @DynamicPropertySource
    static void mailProxy(DynamicPropertyRegistry registry) {
        TestDovecot peers = TestDovecot.shared();
        registry.add("postern.mail-proxy.enabled", () -> "true");
        registry.add("spring.ssl.bundle.pem.mailproxy.keystore.certificate", () -> "file:" + CERTIFICATE.certificate);
        registry.add("spring.ssl.bundle.pem.mailproxy.keystore.private-key", () -> "file:" + CERTIFICATE.privateKey);
        registry.add("postern.mail-proxy.ssl-bundle", () -> "mailproxy");
        registry.add("postern.mail-proxy.imaps-port", () -> "0");
        registry.add("postern.mail-proxy.imap-port", () -> "0");
        registry.add("postern.mail-proxy.smtps-port", () -> "0");
        registry.add("postern.mail-proxy.submission-port", () -> "0");
        registry.add("postern.mail-proxy.upstream-override.imap-host", peers::imapHost);
        registry.add("postern.mail-proxy.upstream-override.imap-port", peers::imapPort);
        registry.add("postern.mail-proxy.upstream-override.smtp-host", peers::smtpHost);
        registry.add("postern.mail-proxy.upstream-override.smtp-port", peers::smtpPort);
        registry.add("postern.mail-proxy.upstream-override.plaintext", () -> "true");
    }

    @BeforeAll
    static void peers() {
        idp = TestIdentityProvider.shared();
        dovecot = TestDovecot.shared();
    }

    /** A mailbox connected through a new app, and a client key allowed for that app. */
    private record Mailbox(String address, String app, String key) {
    }

    private Mailbox connectedMailbox(String name, List<String> firstTokenScopes) {
        String address = name + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String app = registerIdpApp("Mail proxy " + name);
        String key = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.nextTokenFor(address, firstTokenScopes, Duration.ofHours(1));
        new OwnerBrowser(idp).open(URI.create(link.text("url")));
        return new Mailbox(address, app, key);
    }

    private Mailbox connectedMailbox(String name) {
        return connectedMailbox(name, List.of(TestIdentityProvider.MAIL_SCOPE));
    }

    @Test
    void imapsWithAClientKeyListsInboxAppendsAndFetchesAMessageFromDovecot() throws Exception {
        Mailbox mailbox = connectedMailbox("imaps");
        String marker = "proxy-append-" + UUID.randomUUID();
        Properties props = new Properties();
        props.put("mail.imaps.ssl.socketFactory", CERTIFICATE.clientContext().getSocketFactory());
        props.put("mail.imaps.ssl.checkserveridentity", "true");
        props.put("mail.imaps.connectiontimeout", "5000");
        props.put("mail.imaps.timeout", "10000");
        Session session = Session.getInstance(props);
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
        Mailbox mailbox = connectedMailbox("starttls");
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
        try (Lines imap = Lines.tls(proxy.port(MailProxyServer.Listener.IMAPS))) {
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
        Mailbox mailbox = connectedMailbox("submission");
        String marker = "proxy-submission-" + UUID.randomUUID();
        Properties props = new Properties();
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.auth.mechanisms", "PLAIN");
        props.put("mail.smtp.starttls.enable", "true");
        props.put("mail.smtp.starttls.required", "true");
        props.put("mail.smtp.ssl.socketFactory", CERTIFICATE.clientContext().getSocketFactory());
        props.put("mail.smtp.ssl.checkserveridentity", "true");
        props.put("mail.smtp.connectiontimeout", "5000");
        props.put("mail.smtp.timeout", "10000");
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
        try (Lines imap = Lines.plain(proxy.port(MailProxyServer.Listener.IMAP))) {
            assertThat(imap.read()).startsWith("* OK").contains("LOGINDISABLED", "STARTTLS").doesNotContain("AUTH=PLAIN");
            imap.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
            assertThat(imap.read()).startsWith("a1 NO [PRIVACYREQUIRED]");
            imap.send("a2 AUTHENTICATE PLAIN " + plain(mailbox.address(), mailbox.key()));
            assertThat(imap.read()).startsWith("a2 NO [PRIVACYREQUIRED]");
        }
        try (Lines smtp = Lines.plain(proxy.port(MailProxyServer.Listener.SUBMISSION))) {
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
        try (Lines imap = Lines.tls(proxy.port(MailProxyServer.Listener.IMAPS))) {
            assertThat(imap.read()).startsWith("* OK").contains("AUTH=PLAIN").doesNotContain("LOGINDISABLED");
            imap.send("a1 LOGIN " + mailbox.address() + " pst_wrong_" + UUID.randomUUID().toString().replace("-", ""));
            assertThat(imap.read()).isEqualTo("a1 NO [AUTHENTICATIONFAILED] Invalid user name or password.");
            imap.send("a2 LOGIN " + mailbox.address() + " " + other.key());
            assertThat(imap.read()).isEqualTo("a2 NO [AUTHENTICATIONFAILED] Invalid user name or password.");
        }
        try (Lines smtp = Lines.tls(proxy.port(MailProxyServer.Listener.SMTPS))) {
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
        Mailbox mailbox = connectedMailbox("refresh", List.of("openid"));
        idp.nextTokenFor(mailbox.address(), List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        try (Lines imap = Lines.tls(proxy.port(MailProxyServer.Listener.IMAPS))) {
            imap.read();
            imap.send("a1 LOGIN " + mailbox.address() + " " + mailbox.key());
            assertThat(imap.readTagged("a1")).as("Dovecot log:\n%s", dovecot.log()).startsWith("a1 OK");
            imap.send("a2 SELECT INBOX");
            assertThat(imap.readTagged("a2")).startsWith("a2 OK");
            imap.send("a3 LOGOUT");
            assertThat(imap.readTagged("a3")).startsWith("a3 OK");
        }
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
        boolean finished = process.waitFor(60, TimeUnit.SECONDS);
        if (!finished) {
            process.destroyForcibly();
        }
        String out = Files.readString(output);
        assertThat(finished && process.exitValue() == 0).as("python %s:%n%s%nDovecot log:%n%s", command, out, dovecot.log())
            .isTrue();
        return out;
    }

    /** A raw protocol connection: lines out, lines in. */
    private static final class Lines implements AutoCloseable {

        private final Socket socket;

        private final BufferedReader in;

        private final OutputStream out;

        private Lines(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(15_000);
            this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            this.out = socket.getOutputStream();
        }

        static Lines plain(int port) throws IOException {
            return new Lines(new Socket("127.0.0.1", port));
        }

        static Lines tls(int port) throws IOException {
            javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) CERTIFICATE.clientContext()
                .getSocketFactory()
                .createSocket("127.0.0.1", port);
            javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return new Lines(socket);
        }

        void send(String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String read() throws IOException {
            String line = in.readLine();
            assertThat(line).as("a line from the proxy").isNotNull();
            return line;
        }

        String readTagged(String tag) throws IOException {
            String line;
            do {
                line = read();
            }
            while (!line.startsWith(tag + " "));
            return line;
        }

        List<String> readSmtpReply() throws IOException {
            List<String> lines = new ArrayList<>();
            String line;
            do {
                line = read();
                lines.add(line);
            }
            while (line.length() > 3 && line.charAt(3) == '-');
            return lines;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
