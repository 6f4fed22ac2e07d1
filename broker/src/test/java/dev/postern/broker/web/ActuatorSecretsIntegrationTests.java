package dev.postern.broker.web;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the actuator shows a monitoring system, with real secrets in play: a client secret, a
 * mailbox's refresh and access tokens, API keys. None of them appears in health, info or metrics,
 * and the endpoints that would show configuration or memory are not there at all.
 */
class ActuatorSecretsIntegrationTests extends ApiIntegrationTest {

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Autowired
    AccountRepository accounts;

    @Test
    void healthInfoAndMetricsShowNoSecretAndConfigurationIsNotExposed() {
        String clientSecret = "idp-secret-" + UUID.randomUUID();
        String issuer = idp.issuerUrl();
        Answer app = post("/v1/apps", ADMIN_KEY, """
                {"name":"Actuator IdP","provider":"generic","client_id":"%s","authorize_endpoint":"%s/authorize",
                 "token_endpoint":"%s/token","scopes":["openid","email","mail","offline_access"]}"""
            .formatted(TestIdentityProvider.CLIENT_ID, issuer, issuer));
        String appId = app.text("id");
        String credential = post("/v1/apps/" + appId + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"%s","expires_at":"%s"}"""
            .formatted(clientSecret, Instant.now().plus(90, ChronoUnit.DAYS))).json().path("credential").path("id").asString();
        post("/v1/apps/" + appId + "/credentials/" + credential + "/verify", ADMIN_KEY, null);
        assertThat(post("/v1/apps/" + appId + "/credentials/" + credential + "/promote", ADMIN_KEY, null).status()).isEqualTo(200);
        String mailbox = "metrics-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        Answer link = post("/v1/apps/" + appId + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        assertThat(new OwnerBrowser(idp).open(URI.create(link.text("url"))).status()).isEqualTo(200);
        String clientKey = createClientKey("client", "[\"" + appId + "\"]");
        String monitorKey = createClientKey("monitor", "[]");
        Answer token = post("/v1/token", clientKey, "{\"mailbox\":\"" + mailbox + "\"}");
        assertThat(token.status()).as(token.body()).isEqualTo(200);
        String refreshToken = accounts.findAll()
            .stream()
            .filter(account -> account.mailbox().equals(mailbox))
            .map(account -> accounts.find(account.id()).orElseThrow().state().value())
            .findFirst()
            .orElseThrow();
        List<String> secrets = List.of(clientSecret, refreshToken, token.text("access_token"), token.text("xoauth2"),
                ADMIN_KEY, clientKey, monitorKey);
        assertThat(secrets).allSatisfy(secret -> assertThat(secret).hasSizeGreaterThan(20));

        List<Answer> shown = new ArrayList<>();
        shown.add(get("/actuator/health", null));
        shown.add(get("/actuator/health/liveness", null));
        shown.add(get("/actuator/health/readiness", null));
        Answer metrics = get("/actuator/prometheus", monitorKey);
        shown.add(metrics);

        assertThat(shown.getFirst().status()).isEqualTo(200);
        // Anonymous callers get the status alone: no component, path, id or date.
        assertThat(shown.getFirst().body()).doesNotContain("components").doesNotContain("app_").doesNotContain("details");
        assertThat(get("/actuator/info", null).status()).isEqualTo(401);
        assertThat(get("/actuator", null).status()).isEqualTo(401);
        assertThat(get("/actuator/health/store", null).status()).isEqualTo(401);
        assertThat(get("/actuator/health", monitorKey).body()).contains("components");
        assertThat(metrics.status()).isEqualTo(200);
        // The token just issued is counted: the metrics are the live ones, not an empty page.
        assertThat(metrics.body()).contains("postern_token_requests_total");
        for (Answer answer : shown) {
            for (String secret : secrets) {
                // A prefix is enough to leak most of a key; 12 characters cannot appear by chance.
                assertThat(answer.body()).as(answer.response().uri().getPath()).doesNotContain(secret.substring(0, 12));
            }
            assertThat(answer.body()).doesNotContainIgnoringCase("client_secret=").doesNotContain("Bearer ");
        }
        for (String hidden : List.of("env", "configprops", "beans", "heapdump", "threaddump", "loggers", "mappings",
                "scheduledtasks", "conditions", "metrics", "shutdown", "env/postern.access.bootstrap-admin-key")) {
            assertThat(get("/actuator/" + hidden, ADMIN_KEY).status()).as(hidden).isIn(403, 404);
            assertThat(get("/actuator/" + hidden, monitorKey).status()).as(hidden).isIn(403, 404);
        }
        assertThat(get("/actuator", null).body()).doesNotContain("/env").doesNotContain("configprops");
    }

    /**
     * Every request is measured once (http.server.requests), not once per Spring Security filter:
     * those observations cost a quarter of the broker's throughput on the token path (docs/performance.md).
     */
    @Test
    void metricsMeasureEachRequestNotEachSecurityFilter() {
        String monitorKey = createClientKey("monitor", "[]");
        assertThat(get("/actuator/health/liveness", null).status()).isEqualTo(200);

        Answer metrics = get("/actuator/prometheus", monitorKey);

        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("http_server_requests_seconds_count").doesNotContain("spring_security_");
    }
}
