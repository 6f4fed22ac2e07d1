package dev.postern.broker.mailproxy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.testing.MailClients;
import dev.postern.broker.testing.TestDovecot;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.XOAuth2Sasl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The mail peers work together without the broker: tokens from the identity provider log in to
 * Dovecot's IMAP and SMTP submission through Angus Mail (the client library a Java mail client of
 * the broker would use), and tokens that must not work are refused by both. The mail proxy's
 * upstream XOAUTH2 logins rest on this.
 */
@Timeout(60)
class MailPeersIntegrationTests {

    private static final String ALICE = "alice@example.test";

    private static final String BOB = "bob@example.test";


    private static TestIdentityProvider idp;

    private static TestDovecot dovecot;

    @BeforeAll
    static void startPeers() {
        idp = TestIdentityProvider.shared();
        dovecot = TestDovecot.shared();
        XOAuth2Sasl.install();
    }

    @Test
    void aTokenFromTheProviderLogsInToImapAndOpensTheInbox() throws MessagingException {
        String token = idp.issueToken(ALICE);
        assertThat(TestIdentityProvider.claims(token)).containsEntry("email", ALICE)
            .containsEntry("scope", TestIdentityProvider.MAIL_SCOPE)
            .containsEntry("iss", idp.issuerUrl());

        Store store = MailClients.imap().getStore("imap");
        long started = System.nanoTime();
        store.connect(dovecot.imapHost(), dovecot.imapPort(), ALICE, token);
        long loginMillis = (System.nanoTime() - started) / 1_000_000;
        try {
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            assertThat(inbox.getMessageCount()).isGreaterThanOrEqualTo(0);
            inbox.close(false);
            assertThat(Arrays.stream(store.getDefaultFolder().list()).map(Folder::getName)).contains("INBOX");
        }
        finally {
            store.close();
        }
        System.out.println("[mail-peers] IMAP XOAUTH2 login with a " + token.length() + "-character token took "
                + loginMillis + " ms");
    }

    /**
     * The path the broker will take: a token fetched over HTTPS from the provider's token endpoint
     * (trusting it through {@link TestIdentityProvider#sslContext()}) carries the same issuer as
     * the provider's metadata and opens the mailbox.
     */
    @Test
    void aTokenFetchedOverHttpsFromTheTokenEndpointLogsInToImap() throws Exception {
        idp.nextTokenFor(ALICE, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofMinutes(10));
        HttpClient http = HttpClient.newBuilder()
            .sslContext(idp.sslContext())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
        String form = "grant_type=password&username=" + ALICE + "&password=unused&client_id="
                + TestIdentityProvider.CLIENT_ID + "&client_secret=unused&scope=" + TestIdentityProvider.MAIL_SCOPE;
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(idp.tokenEndpointUrl()))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        String token = JsonMapper.builder().build().readTree(response.body()).get("access_token").asString();
        assertThat(TestIdentityProvider.claims(token)).containsEntry("iss", idp.issuerUrl())
            .containsEntry("email", ALICE);

        Store store = MailClients.imap().getStore("imap");
        store.connect(dovecot.imapHost(), dovecot.imapPort(), ALICE, token);
        try {
            assertThat(store.getFolder("INBOX").exists()).isTrue();
        }
        finally {
            store.close();
        }
    }

    @Test
    void smtpSubmissionWithXoauth2SendsAMessageThatTheSinkReceives() throws MessagingException {
        String token = idp.issueToken(ALICE);
        String marker = "postern-" + UUID.randomUUID();
        Session session = MailClients.smtp(true);
        MimeMessage message = new MimeMessage(session);
        message.setFrom(new InternetAddress(ALICE));
        message.setRecipients(Message.RecipientType.TO, BOB);
        message.setSubject("peers " + marker);
        message.setText("sent through Dovecot submission with an OAuth token\n");

        try (Transport transport = session.getTransport("smtp")) {
            transport.connect(dovecot.smtpHost(), dovecot.smtpPort(), ALICE, token);
            transport.sendMessage(message, message.getAllRecipients());
        }

        assertThat(dovecot.awaitRelayed(marker, Duration.ofSeconds(10)))
            .as("the relay sink received the message; Dovecot log:\n%s", dovecot.log())
            .hasValueSatisfying(relayed -> assertThat(relayed).contains("X-MailFrom: " + ALICE)
                .contains("X-RcptTo: " + BOB));
    }

    /**
     * Pins why the SMTP tests use {@link XOAuth2Sasl}: Angus Mail's built-in XOAUTH2 puts the
     * whole initial response on the AUTH line, which Dovecot submission refuses for a real-size
     * token. A client of the broker that talks to Dovecot must send it after the 334.
     */
    @Test
    void angusBuiltInSmtpXoauth2SendsTheTokenOnTheAuthLineWhichDovecotRefuses() {
        String token = idp.issueToken(ALICE);
        assertThat(token.length()).as("a token about the size of a real one").isGreaterThan(700);
        Session session = MailClients.smtp(false);
        assertThatThrownBy(() -> {
            try (Transport transport = session.getTransport("smtp")) {
                transport.connect(dovecot.smtpHost(), dovecot.smtpPort(), ALICE, token);
            }
        }).isInstanceOf(AuthenticationFailedException.class).hasMessageContaining("Line too long");
    }

    /** Tokens that must not open a mailbox. */
    enum BadToken {

        EXPIRED(idp -> idp.issueToken(ALICE, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofMinutes(-5))),

        FORGED(idp -> idp.forgeToken(ALICE, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1))),

        ANOTHER_USERS(idp -> idp.issueToken(BOB)),

        WITHOUT_THE_MAIL_SCOPE(idp -> idp.issueToken(ALICE, List.of("openid"), Duration.ofHours(1))),

        GARBAGE(idp -> "not-a-token");

        private final Function<TestIdentityProvider, String> token;

        BadToken(Function<TestIdentityProvider, String> token) {
            this.token = token;
        }
    }

    @ParameterizedTest
    @EnumSource(BadToken.class)
    void imapRefuses(BadToken bad) {
        String token = bad.token.apply(idp);
        Store[] store = new Store[1];
        assertThatThrownBy(() -> {
            store[0] = MailClients.imap().getStore("imap");
            store[0].connect(dovecot.imapHost(), dovecot.imapPort(), ALICE, token);
        }).as("IMAP login for %s with the %s token; Dovecot log:\n%s", ALICE, bad, lazyLog())
            .isInstanceOf(AuthenticationFailedException.class);
        assertThat(store[0].isConnected()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(BadToken.class)
    void smtpRefuses(BadToken bad) throws MessagingException {
        String token = bad.token.apply(idp);
        Session session = MailClients.smtp(true);
        SMTPTransport transport = (SMTPTransport) session.getTransport("smtp");
        try {
            assertThatThrownBy(() -> transport.connect(dovecot.smtpHost(), dovecot.smtpPort(), ALICE, token))
                .as("SMTP login for %s with the %s token", ALICE, bad)
                .isInstanceOf(AuthenticationFailedException.class);
            // Refused by token validation (535), not by the line-length limit (500) or a hang.
            assertThat(transport.getLastServerResponse()).as("Dovecot log:\n%s", lazyLog()).startsWith("535");
        }
        finally {
            transport.close();
        }
    }

    private static Object lazyLog() {
        return new Object() {
            @Override
            public String toString() {
                return dovecot.log();
            }
        };
    }

}
