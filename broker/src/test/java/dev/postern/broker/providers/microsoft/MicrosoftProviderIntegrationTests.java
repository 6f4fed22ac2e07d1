package dev.postern.broker.providers.microsoft;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;

import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Microsoft app through msal4j against a real identity provider speaking Microsoft's paths
 * (mock-oauth2-server over HTTPS at the configured authority host): the credential check by
 * client credentials, the owner's form_post sign-in, and a refresh from the mailbox's own
 * msal4j token cache, rotated and stored.
 */
class MicrosoftProviderIntegrationTests extends ApiIntegrationTest {

    /** The mock's issuer id for the test apps' Microsoft authority {@code /contoso.onmicrosoft.com/oauth2/v2.0}. */
    private static final String MICROSOFT_ISSUER = "contoso.onmicrosoft.com/oauth2/v2.0";

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Autowired
    AccountRepository accounts;

    @Autowired
    ApplicationEventPublisher events;

    @Test
    void secretAndCertificateVerifyThenMailboxConnectsAndRefreshesThroughMsal() {
        String app = createMicrosoftApp("Contoso through msal4j");
        String secret = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"ms-%s","expires_at":"%s"}"""
            .formatted(UUID.randomUUID(), Instant.now().plus(300, ChronoUnit.DAYS))).json().path("credential").path("id").asString();
        String certificate = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, "{\"type\":\"certificate\"}").json()
            .path("credential").path("id").asString();

        Answer secretCheck = post("/v1/apps/" + app + "/credentials/" + secret + "/verify", ADMIN_KEY, null);
        Answer certificateCheck = post("/v1/apps/" + app + "/credentials/" + certificate + "/verify", ADMIN_KEY, null);
        assertThat(secretCheck.json().path("verification").path("accepted").asBoolean()).as(secretCheck.body()).isTrue();
        assertThat(certificateCheck.json().path("verification").path("accepted").asBoolean()).as(certificateCheck.body()).isTrue();
        assertThat(post("/v1/apps/" + app + "/credentials/" + secret + "/promote", ADMIN_KEY, null).status()).isEqualTo(200);

        String mailbox = "henry-" + UUID.randomUUID().toString().substring(0, 8) + "@contoso.example";
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        idp.nextTokenFor(MICROSOFT_ISSUER, mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        OwnerBrowser.Page page = new OwnerBrowser(idp).open(URI.create(link.text("url")));
        assertThat(page.body()).as(page.body()).contains("Connected as " + mailbox);

        AccountRepository.StoredAccount connected = accounts.findAll()
            .stream()
            .filter(a -> a.mailbox().equals(mailbox))
            .findFirst()
            .flatMap(a -> accounts.find(a.id()))
            .orElseThrow();
        assertThat(connected.state().kind()).isEqualTo(MailboxState.Kind.MSAL_CACHE);
        assertThat(connected.state().value()).contains("RefreshToken");
        accounts.save(connected.account(), connected.state(),
                new AccountRepository.StoredAccessToken("expired", Instant.now().minusSeconds(1), "mail"), connected.version());
        events.publishEvent(new AccountChangedEvent(connected.account(), AccountChangedEvent.Change.CONNECTED));
        String clientKey = createClientKey("client", "[\"" + app + "\"]");

        Answer token = post("/v1/accounts/" + connected.account().id() + "/token", clientKey, "{}");

        assertThat(token.status()).as(token.body()).isEqualTo(200);
        assertThat(TestIdentityProvider.claims(token.text("access_token"))).containsEntry("email", mailbox);
        AccountRepository.StoredAccount refreshed = accounts.find(connected.account().id()).orElseThrow();
        assertThat(refreshed.state().value()).isNotEqualTo(connected.state().value());
        assertThat(refreshed.accessToken().value()).isEqualTo(token.text("access_token"));
    }

    @Test
    void wrongTenantForAGuidTenantAppIsRefusedAtTheCallback() {
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"Tenant bound","provider":"microsoft","tenant":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                 "client_id":"11111111-2222-3333-4444-555555555555"}""");
        String app = created.text("id");
        String secret = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"ms-%s","expires_at":"%s"}"""
            .formatted(UUID.randomUUID(), Instant.now().plus(30, ChronoUnit.DAYS))).json().path("credential").path("id").asString();
        post("/v1/apps/" + app + "/credentials/" + secret + "/promote", ADMIN_KEY, "{\"force\":true,\"reason\":\"test\"}");
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        idp.server().enqueueCallback(new no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback(
                "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/oauth2/v2.0", "ivan",
                "JWT", List.of(TestIdentityProvider.CLIENT_ID),
                java.util.Map.of("email", "ivan@fabrikam.example", "tid", "ffffffff-0000-0000-0000-000000000000"), 3600));

        OwnerBrowser.Page page = new OwnerBrowser(idp).open(URI.create(link.text("url")));

        assertThat(page.status()).isEqualTo(400);
        assertThat(page.body()).contains("another Microsoft tenant");
        assertThat(accounts.findAll()).noneMatch(a -> a.mailbox().equals("ivan@fabrikam.example"));
    }
}
