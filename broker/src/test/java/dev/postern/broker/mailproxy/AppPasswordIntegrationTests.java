package dev.postern.broker.mailproxy;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * App passwords of a connected mailbox through the API, on a real OpenBao: shown once, stored as a
 * hash, listed without secret, audited, checked by the mail proxy's verifier, revoked at once.
 */
class AppPasswordIntegrationTests extends ApiIntegrationTest {

    @Autowired
    AppPasswordService appPasswords;

    private String app;

    private String mailbox;

    private String account;

    @BeforeEach
    void connectedMailbox() {
        app = registerIdpApp("App passwords");
        mailbox = "printer-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        account = connectMailbox(app, mailbox);
    }

    @Test
    void aPasswordIsShownOnceListedWithoutItsSecretAuditedAndOpensOnlyItsMailboxUntilRevoked() {
        Answer created = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{\"name\":\"scanner on floor 2\"}");

        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String password = created.text("password");
        String id = created.text("id");
        assertThat(password).startsWith("ppw_").hasSizeGreaterThanOrEqualTo(47);
        assertThat(created.text("name")).isEqualTo("scanner on floor 2");

        Answer listed = get("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY);
        assertThat(listed.status()).isEqualTo(200);
        assertThat(listed.json().path("items")).singleElement()
            .satisfies(item -> assertThat(item.path("id").asString()).isEqualTo(id));
        assertThat(listed.body()).doesNotContain(password).doesNotContain("password_hash");
        Answer audit = get("/v1/audit?action=app_password.create&limit=20", ADMIN_KEY);
        assertThat(audit.body()).contains(id).doesNotContain(password);

        assertThat(appPasswords.verify(account, password)).hasValueSatisfying(found -> assertThat(found.id()).isEqualTo(id));
        assertThat(appPasswords.verify(account, password + "x")).isEmpty();
        assertThat(appPasswords.verify(account, "ppw_" + UUID.randomUUID())).isEmpty();
        assertThat(appPasswords.verify("acc_someotheraccount", password)).as("another mailbox").isEmpty();

        assertThat(call("DELETE", "/v1/accounts/" + account + "/app-passwords/" + id, ADMIN_KEY, null).status())
            .isEqualTo(204);
        assertThat(appPasswords.verify(account, password)).isEmpty();
        assertThat(get("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY).json().path("items")).isEmpty();
        assertThat(call("DELETE", "/v1/accounts/" + account + "/app-passwords/" + id, ADMIN_KEY, null).status())
            .isEqualTo(404);
    }

    @Test
    void anExpiredPasswordNoLongerOpensTheMailbox() throws InterruptedException {
        Answer created = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY,
                "{\"expires_at\":\"" + Instant.now().plusSeconds(2) + "\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String password = created.text("password");
        assertThat(appPasswords.verify(account, password)).isPresent();

        Thread.sleep(2_500);

        assertThat(appPasswords.verify(account, password)).isEmpty();
    }

    /**
     * A revoke is how an admin hands a mailbox to another identity (docs/api.md): the programs of the
     * previous holder must not keep logging in to it once the next one connects.
     */
    @Test
    void revokingTheMailboxRevokesItsAppPasswordsSoTheNextIdentityDoesNotInheritThem() {
        Answer created = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{\"name\":\"old owner's phone\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String password = created.text("password");
        String id = created.text("id");

        assertThat(call("DELETE", "/v1/accounts/" + account, ADMIN_KEY, null).status()).isEqualTo(200);
        TestIdentityProvider idp = TestIdentityProvider.shared();
        idp.server().enqueueCallback(new DefaultOAuth2TokenCallback(TestIdentityProvider.ISSUER_ID,
                "next-holder-" + UUID.randomUUID(), "JWT", List.of(TestIdentityProvider.CLIENT_ID),
                Map.of("email", mailbox, "email_verified", true, "scope", TestIdentityProvider.MAIL_SCOPE,
                        "token_type", "Bearer"), 3600));
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        OwnerBrowser.Page page = new OwnerBrowser(idp).open(URI.create(link.text("url")));
        assertThat(page.body()).contains("Connected as " + mailbox);
        assertThat(get("/v1/accounts/" + account, ADMIN_KEY).text("status")).isEqualTo("active");

        assertThat(appPasswords.verify(account, password)).as("the previous holder's app password").isEmpty();
        assertThat(get("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY).json().path("items")).isEmpty();
        assertThat(get("/v1/audit?action=app_password.delete&object_id=" + id, ADMIN_KEY).json().path("items"))
            .singleElement()
            .satisfies(entry -> assertThat(entry.path("details").path("reason").asString()).isEqualTo("account_revoked"));
    }

    @Test
    void badInputChangesNothing() {
        Answer past = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY,
                "{\"expires_at\":\"2020-01-01T00:00:00Z\"}");
        assertThat(past.status()).isEqualTo(400);
        assertThat(past.text("type")).isEqualTo("https://postern.dev/problems/invalid-request");
        assertThat(post("/v1/accounts/acc_doesnotexist/app-passwords", ADMIN_KEY, "{}").status()).isEqualTo(404);
        assertThat(post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{\"name\":\"" + "n".repeat(101) + "\"}")
            .status()).isEqualTo(400);
        JsonNode items = get("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY).json().path("items");
        assertThat(items).isEmpty();
    }
}
