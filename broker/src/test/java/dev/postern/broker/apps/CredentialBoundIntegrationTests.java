package dev.postern.broker.apps;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.outbound.FakePeer;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An admin cannot read a stored secret back by pointing the app somewhere else: a change of where
 * credentials go is refused with {@code 409 credential-bound} unless the request carries the
 * active client secret again. Against the real OpenBao and mock-oauth2-server; the "host the admin
 * owns" is a {@link FakePeer} that records every request.
 */
class CredentialBoundIntegrationTests extends ApiIntegrationTest {

    private final String secret = "bound-secret-" + UUID.randomUUID();

    /** A generic app at the test identity provider with {@link #secret} verified and active; returns its id. */
    private String appWithActiveSecret() {
        String issuer = TestIdentityProvider.shared().issuerUrl();
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"Bound","provider":"generic","client_id":"%s","authorize_endpoint":"%s/authorize",
                 "token_endpoint":"%s/token","scopes":["openid","email"]}"""
            .formatted(TestIdentityProvider.CLIENT_ID, issuer, issuer));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String app = created.text("id");
        String credential = addSecret(app, secret);
        Answer verified = post("/v1/apps/" + app + "/credentials/" + credential + "/verify", ADMIN_KEY, null);
        assertThat(verified.json().path("verification").path("accepted").asBoolean()).as(verified.body()).isTrue();
        assertThat(post("/v1/apps/" + app + "/credentials/" + credential + "/promote", ADMIN_KEY, null).status())
            .isEqualTo(200);
        return app;
    }

    private String addSecret(String app, String value) {
        Answer added = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"%s","expires_at":"%s"}"""
            .formatted(value, Instant.now().plus(Duration.ofDays(60))));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        return added.json().path("credential").path("id").asString();
    }

    @Test
    void movingTheTokenEndpointOfAnAppWithCredentialsIsRefusedAndTheSecretNeverLeaves() throws Exception {
        String app = appWithActiveSecret();
        String original = get("/v1/apps/" + app, ADMIN_KEY).text("token_endpoint");
        String credential = get("/v1/apps/" + app, ADMIN_KEY).text("active_credential_id");
        try (FakePeer attacker = new FakePeer()) {
            for (String field : new String[] { "token_endpoint", "authorize_endpoint", "userinfo_endpoint" }) {
                Answer moved = call("PATCH", "/v1/apps/" + app, ADMIN_KEY,
                        "{\"%s\":\"%s\"}".formatted(field, attacker.url("/token")));
                assertThat(moved.status()).as(field + ": " + moved.body()).isEqualTo(409);
                assertThat(moved.text("type")).endsWith("/credential-bound");
            }
            Answer otherClient = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, "{\"client_id\":\"someone-else\"}");
            assertThat(otherClient.status()).isEqualTo(409);
            Answer wrongProof = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, """
                    {"token_endpoint":"%s","client_secret":"a-guess"}""".formatted(attacker.url("/token")));
            assertThat(wrongProof.status()).isEqualTo(409);
            assertThat(wrongProof.body()).doesNotContain("a-guess").doesNotContain(secret);

            // What the attack needed next: a verification (or a refresh) that posts the secret.
            Answer verified = post("/v1/apps/" + app + "/credentials/" + credential + "/verify", ADMIN_KEY, null);
            assertThat(verified.json().path("verification").path("accepted").asBoolean()).as(verified.body()).isTrue();
            assertThat(attacker.received()).as("the attacker's host never heard from Postern").isEmpty();
            assertThat(get("/v1/apps/" + app, ADMIN_KEY).text("token_endpoint")).isEqualTo(original);

            Answer audit = get("/v1/audit?action=app.update&object_id=" + app + "&outcome=failure", ADMIN_KEY);
            JsonNode refused = audit.json().path("items").get(0).path("details");
            assertThat(refused.path("reason").asString()).isEqualTo("credential-bound");
            assertThat(refused.path("token_endpoint_old").asString()).isEqualTo(original);
            assertThat(refused.path("token_endpoint_new").asString()).isEqualTo(attacker.url("/token"));
            assertThat(audit.body()).doesNotContain(secret).doesNotContain("a-guess");
        }
    }

    @Test
    void withTheActiveSecretAgainTheAppMovesKeepingOnlyThatCredential() {
        String app = appWithActiveSecret();
        String active = get("/v1/apps/" + app, ADMIN_KEY).text("active_credential_id");
        String pending = addSecret(app, "another-" + UUID.randomUUID());
        String original = get("/v1/apps/" + app, ADMIN_KEY).text("token_endpoint");
        String moved = TestIdentityProvider.shared().issuerUrl() + "/token?moved=1";

        Answer proven = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, """
                {"token_endpoint":"%s","client_secret":"%s"}""".formatted(moved, secret));

        assertThat(proven.status()).as(proven.body()).isEqualTo(200);
        assertThat(proven.text("token_endpoint")).isEqualTo(moved);
        assertThat(proven.text("active_credential_id")).isEqualTo(active);
        assertThat(proven.json().path("credentials")).hasSize(1);
        assertThat(proven.body()).doesNotContain(secret);
        JsonNode details = get("/v1/audit?action=app.update&object_id=" + app + "&outcome=success", ADMIN_KEY).json()
            .path("items")
            .get(0)
            .path("details");
        assertThat(details.path("token_endpoint_old").asString()).isEqualTo(original);
        assertThat(details.path("token_endpoint_new").asString()).isEqualTo(moved);
        assertThat(details.path("proven_credential_id").asString()).isEqualTo(active);
        assertThat(details.path("removed_credential_ids").asString()).isEqualTo(pending);
    }

    @Test
    void anAppWithoutCredentialsMovesFreelyAndNameChangesNeedNoProof() {
        String bare = post("/v1/apps", ADMIN_KEY, """
                {"name":"Bare","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example.com/a",
                 "token_endpoint":"https://idp.example.com/t"}""").text("id");
        assertThat(call("PATCH", "/v1/apps/" + bare, ADMIN_KEY, "{\"token_endpoint\":\"https://idp2.example.com/t\"}")
            .status()).isEqualTo(200);

        String app = appWithActiveSecret();
        assertThat(call("PATCH", "/v1/apps/" + app, ADMIN_KEY, "{\"name\":\"Renamed\",\"scopes\":[\"openid\"]}").status())
            .isEqualTo(200);
        Answer secretWithoutMove = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, """
                {"name":"Again","client_secret":"%s"}""".formatted(secret));
        assertThat(secretWithoutMove.status()).isEqualTo(400);
        Answer secretOnCreate = post("/v1/apps", ADMIN_KEY, """
                {"name":"x","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example.com/a",
                 "token_endpoint":"https://idp.example.com/t","client_secret":"s"}""");
        assertThat(secretOnCreate.status()).isEqualTo(400);
    }
}
