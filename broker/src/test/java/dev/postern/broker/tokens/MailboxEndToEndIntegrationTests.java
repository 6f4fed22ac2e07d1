package dev.postern.broker.tokens;

import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import jakarta.mail.AuthenticationFailedException;
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

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.MailClients;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestDovecot;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.XOAuth2Sasl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The whole path with real peers: an admin registers an app with a secret and makes a connect
 * link; the owner connects through the identity provider; a mail client gets a token from
 * {@code POST /v1/token} and Dovecot, validating it against the same identity provider, lets it
 * read INBOX over IMAP and send over SMTP submission. Expired and forged tokens stay out.
 */
@Timeout(120)
class MailboxEndToEndIntegrationTests extends ApiIntegrationTest {

    private static TestIdentityProvider idp;

    private static TestDovecot dovecot;

    @BeforeAll
    static void peers() {
        idp = TestIdentityProvider.shared();
        dovecot = TestDovecot.shared();
        XOAuth2Sasl.install();
    }

    @Test
    void tokenFromTheBrokerOpensImapAndSendsOverSubmission() throws Exception {
        String mailbox = "frank-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String app = registerIdpApp("Mail e2e");
        String clientKey = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        assertThat(new OwnerBrowser(idp).open(URI.create(link.text("url"))).body()).contains("Connected as " + mailbox);

        Answer token = post("/v1/token", clientKey, "{\"mailbox\":\"" + mailbox + "\",\"min_ttl_seconds\":300}");
        assertThat(token.status()).as(token.body()).isEqualTo(200);
        String accessToken = token.text("access_token");

        Store imap = MailClients.imap().getStore("imap");
        imap.connect(dovecot.imapHost(), dovecot.imapPort(), token.text("username"), accessToken);
        try {
            Folder inbox = imap.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            assertThat(inbox.getMessageCount()).isGreaterThanOrEqualTo(0);
            inbox.close(false);
            assertThat(Arrays.stream(imap.getDefaultFolder().list()).map(Folder::getName)).contains("INBOX");
        }
        finally {
            imap.close();
        }

        String marker = "postern-e2e-" + UUID.randomUUID();
        Session smtp = MailClients.smtp(true);
        MimeMessage message = new MimeMessage(smtp);
        message.setFrom(new InternetAddress(mailbox));
        message.setRecipients(Message.RecipientType.TO, "someone@example.test");
        message.setSubject(marker);
        message.setText("sent with a token from Postern\n");
        try (Transport transport = smtp.getTransport("smtp")) {
            transport.connect(dovecot.smtpHost(), dovecot.smtpPort(), mailbox, accessToken);
            transport.sendMessage(message, message.getAllRecipients());
        }
        assertThat(dovecot.awaitRelayed(marker, Duration.ofSeconds(10))).as("relayed; Dovecot log:\n%s", dovecot.log())
            .isPresent();
        System.out.println("[e2e] " + mailbox + ": connected through the broker, IMAP INBOX listed and SMTP sent with its token");
    }

    @Test
    void dovecotRefusesAnExpiredOrForgedTokenButTakesTheBrokersFreshOne() throws Exception {
        String mailbox = "grace-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String app = registerIdpApp("Mail e2e");
        String clientKey = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        new OwnerBrowser(idp).open(URI.create(link.text("url")));

        for (String bad : List.of(
                idp.issueToken(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofMinutes(-5)),
                idp.forgeToken(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1)))) {
            Store store = MailClients.imap().getStore("imap");
            assertThatThrownBy(() -> store.connect(dovecot.imapHost(), dovecot.imapPort(), mailbox, bad))
                .isInstanceOf(AuthenticationFailedException.class);
        }
        String fresh = post("/v1/token", clientKey, "{\"mailbox\":\"" + mailbox + "\"}").text("access_token");
        Store store = MailClients.imap().getStore("imap");
        store.connect(dovecot.imapHost(), dovecot.imapPort(), mailbox, fresh);
        assertThat(store.isConnected()).isTrue();
        store.close();
    }

}
