package dev.postern.broker.access;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.ResponseLog;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Creates client secrets, a certificate and API keys, uses and misuses them, then searches every
 * response body, log line and audit entry of the run for their values: none may be there, but
 * for the one create-client answer that shows a new key once. Admin sign-ins and their session
 * ids are searched for too.
 */
@ExtendWith(OutputCaptureExtension.class)
class SecretsNeverEchoedIntegrationTests extends ApiIntegrationTest {

    @Autowired
    AppRepository apps;

    @Test
    void noSecretInAnyResponseLogLineOrAuditEntry(CapturedOutput output) {
        String clientSecret = "cs-" + UUID.randomUUID();
        String app = createMicrosoftApp("Secret keeping");
        String expires = Instant.now().plus(200, ChronoUnit.DAYS).toString();
        post("/v1/apps/" + app + "/credentials", ADMIN_KEY,
                "{\"type\":\"client_secret\",\"value\":\"%s\",\"expires_at\":\"%s\"}".formatted(clientSecret, expires));
        post("/v1/apps/" + app + "/credentials", ADMIN_KEY,
                "{\"type\":\"client_secret\",\"value\":\"%s\",\"expires_at\":\"not a date\"}".formatted(clientSecret));
        post("/v1/apps/" + app + "/credentials", ADMIN_KEY,
                "{\"type\":\"client_secret\",\"value\":\"%s\",\"expires_at\":\"%s\",\"oops\":1}".formatted(clientSecret, expires));
        String certificate = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, "{\"type\":\"certificate\"}").json()
            .path("credential")
            .path("id")
            .asString();
        String privateKey = apps.find(app).orElseThrow().secrets().get(certificate);
        String privateKeyBody = privateKey.lines().filter(line -> !line.startsWith("-----")).findFirst().orElseThrow();
        Answer createdClient = post("/v1/clients", ADMIN_KEY, "{\"name\":\"echo test\",\"role\":\"client\"}");
        String apiKey = createdClient.text("key");
        get("/v1/apps", apiKey);
        get("/v1/apps", apiKey + "x");
        // The admin web app's sign-in takes keys in a body: refused, wrong and accepted ones.
        post("/admin/session", null, "{\"api_key\":\"%s\"}".formatted(apiKey));
        post("/admin/session", null, "{\"api_key\":\"%s\"}".formatted(apiKey + "x"));
        post("/admin/session", null, "{\"api_key\":\"%s\",\"oops\":1}".formatted(ADMIN_KEY));
        Answer signedIn = post("/admin/session", null, "{\"api_key\":\"%s\"}".formatted(ADMIN_KEY));
        String setCookie = signedIn.response().headers().firstValue("Set-Cookie").orElseThrow();
        String sessionId = setCookie.substring("postern_session=".length(), setCookie.indexOf(';'));
        call("DELETE", "/v1/clients/" + createdClient.text("id"), ADMIN_KEY, null);
        get("/v1/apps", apiKey);
        String audit = get("/v1/audit?limit=500", ADMIN_KEY).body();

        List<String> bodies = ResponseLog.bodies();
        assertThat(bodies).noneMatch(body -> body.contains(clientSecret));
        assertThat(bodies).noneMatch(body -> body.contains(privateKeyBody));
        assertThat(bodies).noneMatch(body -> body.contains(ADMIN_KEY));
        assertThat(bodies.stream().filter(body -> body.contains(apiKey))).hasSize(1);
        assertThat(output.getAll()).doesNotContain(clientSecret)
            .doesNotContain(privateKeyBody)
            .doesNotContain(apiKey)
            .doesNotContain(ADMIN_KEY)
            .doesNotContain(sessionId);
        assertThat(audit).contains(app).doesNotContain(clientSecret).doesNotContain(apiKey).doesNotContain(ADMIN_KEY)
            .doesNotContain(sessionId)
            .contains("session.create");
    }
}
