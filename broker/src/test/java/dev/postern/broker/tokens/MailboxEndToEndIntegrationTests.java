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
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.ChromiumOwnerBrowser;
import dev.postern.broker.testing.MailClients;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestDovecot;
import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.XOAuth2Sasl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The whole path with real peers: an admin registers an app with a secret and makes a connect
 * link; the owner connects in Chromium through the identity provider's sign-in page; a mail client
 * gets a token from {@code POST /v1/token} and Dovecot, validating it against the same identity
 * provider, lets it read INBOX over IMAP and send over SMTP submission. Expired and forged tokens
 * stay out.
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
        String app = registerIdpAppWithSignInPage("Mail e2e");
        String clientKey = createClientKey("client", "[\"" + app + "\"]");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        ChromiumOwnerBrowser.SignIn signIn = new ChromiumOwnerBrowser(idp).connect(URI.create(link.text("url")), mailbox);
        assertThat(signIn.text()).as("the page the owner saw: %s", signIn).contains("Connected as " + mailbox);
        assertThat(signIn.status()).isEqualTo(200);
        assertThat(signIn.url()).hasScheme("http").hasPort(port).hasPath("/oauth2/callback");
        assertTheBrowserWentThroughTheSignInPage(signIn, URI.create(link.text("url")));

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

    /**
     * The hops a real browser took: the link's redirect with PKCE and state, the provider's sign-in
     * page over HTTPS (trusted through the SPKI pin alone), the posted user name, the provider's
     * redirect back. The callback was a cross-site GET from the provider, which the broker accepts
     * only with the binding cookie set by the link, so its success shows Chromium sent that cookie.
     */
    private void assertTheBrowserWentThroughTheSignInPage(ChromiumOwnerBrowser.SignIn signIn, URI link) {
        List<ChromiumOwnerBrowser.Document> documents = signIn.documents();
        assertThat(documents).as("pages and redirects").hasSize(4);
        assertThat(documents.get(0)).extracting(ChromiumOwnerBrowser.Document::method, ChromiumOwnerBrowser.Document::url,
                ChromiumOwnerBrowser.Document::status)
            .containsExactly("GET", link, 302);

        URI signInPage = documents.get(1).url();
        assertThat(documents.get(1).status()).isEqualTo(200);
        assertThat(signInPage.toString()).startsWith(idp.issuerUrl() + "/authorize?");
        assertThat(signInPage.getQuery()).contains("prompt=login", "code_challenge_method=S256", "code_challenge=", "state=",
                "redirect_uri=http://127.0.0.1:" + port + "/oauth2/callback");

        assertThat(documents.get(2).method()).isEqualTo("POST");
        assertThat(documents.get(2).url().toString()).startsWith(idp.issuerUrl() + "/authorize");
        assertThat(documents.get(2).status()).isEqualTo(302);

        URI callback = documents.get(3).url();
        assertThat(documents.get(3).method()).isEqualTo("GET");
        assertThat(callback.getQuery()).contains("code=[redacted]");
        assertThat(parameter(callback, "state")).as("the state came back unchanged")
            .isEqualTo(parameter(signInPage, "state"))
            // The state names the link by the hash under which it is stored, never by its secret.
            .startsWith("lnh_")
            .doesNotContain(link.getPath().substring("/connect/".length()));
        assertThat(signIn.cookies()).filteredOn(cookie -> cookie.name().equals("postern_connect"))
            .singleElement()
            .satisfies(cookie -> {
                assertThat(cookie.httpOnly()).isTrue();
                assertThat(cookie.sameSite()).isEqualTo("Lax");
                assertThat(cookie.path()).isEqualTo("/oauth2/callback");
            });
        // The only request that left 127.0.0.1 is the sign-in page's web font, refused by the browser.
        assertThat(signIn.blocked()).allMatch(origin -> origin.equals("https://fonts.googleapis.com"));
    }

    private static String parameter(URI uri, String name) {
        return Arrays.stream(uri.getQuery().split("&"))
            .filter(pair -> pair.startsWith(name + "="))
            .map(pair -> pair.substring(name.length() + 1))
            .findFirst()
            .orElse(null);
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
