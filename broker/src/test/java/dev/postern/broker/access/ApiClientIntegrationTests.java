package dev.postern.broker.access;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/** API clients over the API, on a real Vault: keys shown once, roles, revocation, expiry. */
class ApiClientIntegrationTests extends ApiIntegrationTest {

    @Test
    void keyIsShownOnceAndOnlyItsPrefixIsListed() {
        Answer created = post("/v1/clients", ADMIN_KEY, "{\"name\":\"NocoBase\",\"role\":\"client\"}");

        String key = created.text("key");
        assertThat(created.status()).isEqualTo(201);
        assertThat(key).startsWith("pst_").hasSizeGreaterThanOrEqualTo(4 + 43);
        assertThat(created.text("key_prefix")).isEqualTo(key.substring(0, 12));
        String listed = listAll("/v1/clients", ADMIN_KEY).toString();
        assertThat(listed).contains(created.text("id")).doesNotContain(key).doesNotContain("key_hash");
    }

    @Test
    void revokedKeyIsRefusedAtOnce() {
        Answer created = post("/v1/clients", ADMIN_KEY, "{\"name\":\"to revoke\",\"role\":\"admin\"}");
        String key = created.text("key");
        assertThat(get("/v1/clients", key).status()).isEqualTo(200);

        Answer revoked = call("DELETE", "/v1/clients/" + created.text("id"), ADMIN_KEY, null);

        assertThat(revoked.status()).isEqualTo(200);
        assertThat(revoked.text("revoked_at")).isNotBlank();
        Answer refused = get("/v1/clients", key);
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.response().headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                value -> assertThat(value).startsWith("Bearer"));
    }

    @Test
    void expiryMustBeInTheFutureAndScopesOnlyForClients() {
        Answer past = post("/v1/clients", ADMIN_KEY, "{\"name\":\"x\",\"role\":\"client\",\"expires_at\":\"%s\"}"
            .formatted(Instant.now().minus(1, ChronoUnit.HOURS)));
        Answer scopedAdmin = post("/v1/clients", ADMIN_KEY,
                "{\"name\":\"x\",\"role\":\"admin\",\"allowed_apps\":[\"app_x\"]}");
        Answer badRole = post("/v1/clients", ADMIN_KEY, "{\"name\":\"x\",\"role\":\"root\"}");
        Answer badId = post("/v1/clients", ADMIN_KEY,
                "{\"name\":\"x\",\"role\":\"client\",\"allowed_apps\":[\"../etc\"]}");

        assertThat(past.status()).isEqualTo(400);
        assertThat(past.json().path("errors").has("expires_at")).isTrue();
        assertThat(scopedAdmin.status()).isEqualTo(400);
        assertThat(badRole.status()).isEqualTo(400);
        assertThat(badRole.json().path("errors").has("role")).isTrue();
        assertThat(badId.status()).isEqualTo(400);
    }

    @Test
    void theLastUsableAdminCannotBeRevoked() {
        String otherAdmin = post("/v1/clients", ADMIN_KEY, "{\"name\":\"other\",\"role\":\"admin\"}").text("id");
        for (var client : listAll("/v1/clients", ADMIN_KEY)) {
            if (client.path("role").asString().equals("admin") && !client.path("id").asString().equals(otherAdmin)
                    && client.path("revoked_at").isMissingNode()
                    && !client.path("key_prefix").asString().equals(ADMIN_KEY.substring(0, 12))) {
                call("DELETE", "/v1/clients/" + client.path("id").asString(), ADMIN_KEY, null);
            }
        }
        String bootstrap = ApiKeys.clientIdFor(ADMIN_KEY);
        assertThat(call("DELETE", "/v1/clients/" + otherAdmin, ADMIN_KEY, null).status()).isEqualTo(200);

        Answer last = call("DELETE", "/v1/clients/" + bootstrap, ADMIN_KEY, null);

        assertThat(last.status()).isEqualTo(409);
        assertThat(last.text("type")).endsWith("/last-admin");
        assertThat(get("/v1/clients", ADMIN_KEY).status()).isEqualTo(200);
    }
}
