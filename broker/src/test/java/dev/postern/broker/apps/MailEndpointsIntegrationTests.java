package dev.postern.broker.apps;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An app's IMAP and SMTP servers for the mail proxy ({@code imap_endpoint}, {@code smtp_endpoint}):
 * the provider's by default, one form when given, checked like the OAuth endpoints, and bound to
 * the app's credentials like them (the proxy sends mailboxes' tokens there). Real OpenBao.
 */
class MailEndpointsIntegrationTests extends ApiIntegrationTest {

    private static final String TENANT = "0b9f2c52-3d2e-4d8e-9a51-7c1f3a0e2b44";

    private static final String CLIENT = "5c2e1f0a-8b7d-4c3e-9f1a-2d6b8e4c0a17";

    @Test
    void microsoftAndGoogleAppsShowTheirProvidersMailServersAndAGenericAppNone() {
        Answer microsoft = post("/v1/apps", ADMIN_KEY, """
                {"name":"M365","provider":"microsoft","tenant":"%s","client_id":"%s"}""".formatted(TENANT, CLIENT));
        assertThat(microsoft.status()).as(microsoft.body()).isEqualTo(201);
        assertThat(microsoft.text("imap_endpoint")).isEqualTo("imaps://outlook.office365.com:993");
        assertThat(microsoft.text("smtp_endpoint")).isEqualTo("smtp://smtp.office365.com:587");

        Answer google = post("/v1/apps", ADMIN_KEY, """
                {"name":"Gmail","provider":"google","client_id":"gmail-client"}""");
        assertThat(google.status()).as(google.body()).isEqualTo(201);
        assertThat(google.text("imap_endpoint")).isEqualTo("imaps://imap.gmail.com:993");
        assertThat(google.text("smtp_endpoint")).isEqualTo("smtps://smtp.gmail.com:465");

        Answer generic = post("/v1/apps", ADMIN_KEY, genericApp(""));
        assertThat(generic.status()).as(generic.body()).isEqualTo(201);
        assertThat(generic.json().has("imap_endpoint")).as(generic.body()).isFalse();
        assertThat(generic.json().has("smtp_endpoint")).as(generic.body()).isFalse();
    }

    @Test
    void givenServersAreStoredWithThePortTheirSchemeImpliesAndOverrideTheProvidersDefault() {
        Answer generic = post("/v1/apps", ADMIN_KEY,
                genericApp(",\"imap_endpoint\":\"imap://Localhost\",\"smtp_endpoint\":\"smtps://localhost\""));
        assertThat(generic.status()).as(generic.body()).isEqualTo(201);
        assertThat(generic.text("imap_endpoint")).isEqualTo("imap://localhost:143");
        assertThat(generic.text("smtp_endpoint")).isEqualTo("smtps://localhost:465");

        Answer microsoft = post("/v1/apps", ADMIN_KEY, """
                {"name":"M365 own relay","provider":"microsoft","tenant":"%s","client_id":"%s",
                 "smtp_endpoint":"smtp://localhost:2587"}""".formatted(TENANT, CLIENT));
        assertThat(microsoft.status()).as(microsoft.body()).isEqualTo(201);
        assertThat(microsoft.text("imap_endpoint")).isEqualTo("imaps://outlook.office365.com:993");
        assertThat(microsoft.text("smtp_endpoint")).isEqualTo("smtp://localhost:2587");
    }

    @Test
    void aServerOfTheWrongKindOrAtAPrivateAddressIsRefusedAndNothingIsStored() {
        String app = post("/v1/apps", ADMIN_KEY, genericApp("")).text("id");
        for (String wrong : new String[] { "{\"imap_endpoint\":\"https://localhost\"}",
            "{\"imap_endpoint\":\"smtps://localhost\"}", "{\"smtp_endpoint\":\"imaps://localhost\"}",
            "{\"imap_endpoint\":\"imaps://user@localhost\"}", "{\"smtp_endpoint\":\"smtps://localhost/path\"}" }) {
            Answer refused = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, wrong);
            assertThat(refused.status()).as(wrong + ": " + refused.body()).isEqualTo(400);
            assertThat(refused.response().headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        }
        Answer privateAddress = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, "{\"imap_endpoint\":\"imaps://10.1.2.3\"}");
        assertThat(privateAddress.status()).as(privateAddress.body()).isEqualTo(400);
        assertThat(privateAddress.text("type")).endsWith("/endpoint-not-allowed");
        assertThat(get("/v1/apps/" + app, ADMIN_KEY).json().has("imap_endpoint")).isFalse();
    }

    @Test
    void movingTheMailServerOfAnAppWithCredentialsNeedsItsClientSecretAgain() {
        String secret = "mail-bound-" + UUID.randomUUID();
        String app = post("/v1/apps", ADMIN_KEY, genericApp(",\"imap_endpoint\":\"imaps://localhost:993\"")).text("id");
        Answer added = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"%s","expires_at":"%s"}"""
            .formatted(secret, Instant.now().plus(Duration.ofDays(60))));
        String credential = added.json().path("credential").path("id").asString();
        assertThat(post("/v1/apps/" + app + "/credentials/" + credential + "/verify", ADMIN_KEY, null).status()).isEqualTo(200);
        assertThat(post("/v1/apps/" + app + "/credentials/" + credential + "/promote", ADMIN_KEY, null).status()).isEqualTo(200);

        Answer moved = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, "{\"imap_endpoint\":\"imaps://localhost:1993\"}");
        assertThat(moved.status()).as(moved.body()).isEqualTo(409);
        assertThat(moved.text("type")).endsWith("/credential-bound");
        assertThat(get("/v1/apps/" + app, ADMIN_KEY).text("imap_endpoint")).isEqualTo("imaps://localhost:993");

        Answer proven = call("PATCH", "/v1/apps/" + app, ADMIN_KEY,
                "{\"imap_endpoint\":\"imaps://localhost:1993\",\"client_secret\":\"" + secret + "\"}");
        assertThat(proven.status()).as(proven.body()).isEqualTo(200);
        assertThat(proven.text("imap_endpoint")).isEqualTo("imaps://localhost:1993");
    }

    private static String genericApp(String moreFields) {
        String issuer = TestIdentityProvider.shared().issuerUrl();
        return """
                {"name":"Generic mail","provider":"generic","client_id":"%s","authorize_endpoint":"%s/authorize",
                 "token_endpoint":"%s/token","scopes":["openid","email"]%s}"""
            .formatted(TestIdentityProvider.CLIENT_ID, issuer, issuer, moreFields);
    }
}
