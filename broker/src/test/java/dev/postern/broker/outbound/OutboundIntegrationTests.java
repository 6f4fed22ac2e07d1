package dev.postern.broker.outbound;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Outbound calls through the v1 API: endpoints at non-public addresses are refused when stored,
 * and a peer's huge answer, redirect or error text does not get through {@code /verify}.
 */
class OutboundIntegrationTests extends ApiIntegrationTest {

    @ParameterizedTest(name = "{0} is refused by {1}")
    @CsvSource({ "https://10.0.0.1/token, private", "https://169.254.169.254/latest/meta-data/, metadata",
            "'https://[fd00::1]/token', unique-local", "'https://[::ffff:10.0.0.1]/token', private",
            "https://kubernetes.default.svc/token, internal-name", "https://metadata.google.internal/token, metadata",
            "https://0x0a000001/token, private", "https://167772161/token, private", "https://012.0.0.1/token, private",
            "https://100.64.1.1/token, cgnat", "http://idp.example.com/token, https-only" })
    void anAppWithANonPublicEndpointIsRefused(String endpoint, String rule) {
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"Private","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example.com/a",
                 "token_endpoint":"%s"}""".formatted(endpoint));

        assertThat(created.status()).as(created.body()).isEqualTo(400);
        assertThat(created.text("type")).endsWith("/endpoint-not-allowed");
        assertThat(created.text("rule")).isEqualTo(rule);
        assertThat(created.json().path("errors").has("token_endpoint")).isTrue();

        String app = post("/v1/apps", ADMIN_KEY, """
                {"name":"Public","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example.com/a",
                 "token_endpoint":"https://idp.example.com/t"}""").text("id");
        Answer patched = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, """
                {"userinfo_endpoint":"%s"}""".formatted(endpoint));
        assertThat(patched.status()).as(patched.body()).isEqualTo(400);
        assertThat(patched.text("type")).endsWith("/endpoint-not-allowed");
    }

    @Test
    void aProviderAnswerOver256KiBIsRefused() throws Exception {
        try (FakePeer peer = new FakePeer()) {
            Answer verified = verifyAgainst(peer.url("/big"));

            assertThat(peer.received()).hasSize(1);
            assertThat(verified.json().path("verification").path("accepted").asBoolean()).as(verified.body()).isFalse();
            assertThat(verified.json().path("verification").path("error").asString()).isEqualTo("response_too_large");
            assertThat(verified.body()).doesNotContain("xxxxxxxx");
        }
    }

    @Test
    void aRedirectIsNotFollowed() throws Exception {
        try (FakePeer peer = new FakePeer()) {
            Answer verified = verifyAgainst(peer.url("/redirect"));

            assertThat(peer.received()).extracting(FakePeer.Received::path).containsExactly("/redirect");
            assertThat(verified.json().path("verification").path("accepted").asBoolean()).as(verified.body()).isFalse();
            assertThat(verified.json().path("verification").path("error").asString()).isEqualTo("redirect");
        }
    }

    @Test
    void verifyEchoesOnlyAFixedCodeOfWhatAPeerAnswered() throws Exception {
        try (FakePeer peer = new FakePeer()) {
            Answer verified = verifyAgainst(peer.url("/internal"));

            assertThat(peer.received()).hasSize(1);
            assertThat(verified.json().path("verification").path("error").asString()).isEqualTo("other");
            assertThat(verified.body()).doesNotContain("hunter2").doesNotContain("10.0.0.7")
                .doesNotContain("internal_detail_code");
        }
    }

    /** A generic app whose token endpoint is {@code tokenEndpoint}, with one secret, verified. */
    private Answer verifyAgainst(String tokenEndpoint) {
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"Peer","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example.com/a",
                 "token_endpoint":"%s"}""".formatted(tokenEndpoint));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String app = created.text("id");
        String credential = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"peer-secret","expires_at":"%s"}"""
            .formatted(Instant.now().plus(Duration.ofDays(30)))).json().path("credential").path("id").asString();
        Answer verified = post("/v1/apps/" + app + "/credentials/" + credential + "/verify", ADMIN_KEY, null);
        assertThat(verified.status()).as(verified.body()).isEqualTo(200);
        return verified;
    }
}
