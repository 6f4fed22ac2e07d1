package dev.postern.broker.apps;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.postern.broker.providers.Pem;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * App registrations and the rotation of their credentials over the API, on a real Vault. The
 * generic provider's token endpoint is a small local server that checks the client secret the
 * way a real one does (mock-oauth2-server accepts any secret, so it cannot say no).
 */
class CredentialRotationIntegrationTests extends ApiIntegrationTest {

    private static final String RIGHT_SECRET = "right-secret-" + System.nanoTime();

    private static HttpServer tokenEndpoint;

    private static final AtomicInteger tokenCalls = new AtomicInteger();

    @Autowired
    AppRepository repository;

    @BeforeAll
    static void startTokenEndpoint() throws IOException {
        tokenEndpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokenEndpoint.createContext("/token", exchange -> {
            tokenCalls.incrementAndGet();
            String form;
            try (InputStream in = exchange.getRequestBody()) {
                form = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            boolean clientOk = form.contains("client_secret=" + RIGHT_SECRET);
            byte[] body = (clientOk ? "{\"error\":\"invalid_grant\",\"error_description\":\"unknown refresh token\"}"
                    : "{\"error\":\"invalid_client\",\"error_description\":\"client authentication failed\"}")
                .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(clientOk ? 400 : 401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        tokenEndpoint.start();
    }

    @AfterAll
    static void stopTokenEndpoint() {
        tokenEndpoint.stop(0);
    }

    private String createGenericApp() {
        int port = tokenEndpoint.getAddress().getPort();
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"Generic mail","provider":"generic","client_id":"postern-test",
                 "authorize_endpoint":"http://127.0.0.1:%d/authorize","token_endpoint":"http://127.0.0.1:%d/token",
                 "scopes":["mail"]}""".formatted(port, port));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.text("id");
    }

    private String addSecret(String appId, String value) {
        Answer added = post("/v1/apps/" + appId + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"%s","expires_at":"%s"}"""
            .formatted(value, Instant.now().plus(300, ChronoUnit.DAYS)));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        assertThat(added.json().path("credential").path("state").asString()).isEqualTo("pending");
        assertThat(added.body()).doesNotContain(value);
        return added.json().path("credential").path("id").asString();
    }

    @Test
    void rotationAddVerifyPromoteThenRetireAndDeleteTheOldOne() {
        String app = createGenericApp();
        String wrong = addSecret(app, "wrong-secret-value");

        Answer refused = post("/v1/apps/" + app + "/credentials/" + wrong + "/verify", ADMIN_KEY, null);
        assertThat(refused.status()).isEqualTo(200);
        assertThat(refused.json().path("verification").path("accepted").asBoolean()).isFalse();
        assertThat(refused.json().path("verification").path("error").asString()).isEqualTo("invalid_client");

        Answer notVerified = post("/v1/apps/" + app + "/credentials/" + wrong + "/promote", ADMIN_KEY, "{}");
        assertThat(notVerified.status()).isEqualTo(409);
        assertThat(notVerified.text("type")).endsWith("/credential-not-verified");

        Answer forcedWithoutReason = post("/v1/apps/" + app + "/credentials/" + wrong + "/promote", ADMIN_KEY,
                "{\"force\":true}");
        assertThat(forcedWithoutReason.status()).isEqualTo(400);
        assertThat(forcedWithoutReason.json().path("errors").has("reason")).isTrue();

        Answer forced = post("/v1/apps/" + app + "/credentials/" + wrong + "/promote", ADMIN_KEY,
                "{\"force\":true,\"reason\":\"provider down, emergency\"}");
        assertThat(forced.status()).isEqualTo(200);
        assertThat(forced.text("active_credential_id")).isEqualTo(wrong);
        Answer audit = get("/v1/audit?action=credential.promote&object_id=" + wrong, ADMIN_KEY);
        assertThat(audit.json().path("items").get(0).path("details").path("reason").asString())
            .isEqualTo("provider down, emergency");

        String right = addSecret(app, RIGHT_SECRET);
        Answer accepted = post("/v1/apps/" + app + "/credentials/" + right + "/verify", ADMIN_KEY, null);
        assertThat(accepted.json().path("verification").path("accepted").asBoolean()).as(accepted.body()).isTrue();
        Answer promoted = post("/v1/apps/" + app + "/credentials/" + right + "/promote", ADMIN_KEY, null);
        assertThat(promoted.status()).isEqualTo(200);
        assertThat(promoted.text("active_credential_id")).isEqualTo(right);
        assertThat(promoted.json().path("credentials").get(0).path("state").asString()).isEqualTo("retired");

        Answer deleteActive = call("DELETE", "/v1/apps/" + app + "/credentials/" + right, ADMIN_KEY, null);
        assertThat(deleteActive.status()).isEqualTo(409);
        assertThat(deleteActive.text("type")).endsWith("/credential-in-use");

        Answer deleteOld = call("DELETE", "/v1/apps/" + app + "/credentials/" + wrong, ADMIN_KEY, null);
        assertThat(deleteOld.status()).isEqualTo(200);
        AppRepository.StoredApp stored = repository.find(app).orElseThrow();
        assertThat(stored.app().credentials()).extracting(Credential::id).containsExactly(right);
        assertThat(stored.secrets()).containsOnlyKeys(right).containsEntry(right, RIGHT_SECRET);
    }

    @Test
    void clientSecretExpiryIsRequiredInTheFutureAndWarnedBeyondMicrosoftsLimit() {
        String app = createMicrosoftApp("Expiry rules");
        String path = "/v1/apps/" + app + "/credentials";

        Answer missing = post(path, ADMIN_KEY, "{\"type\":\"client_secret\",\"value\":\"abc\"}");
        Answer past = post(path, ADMIN_KEY, "{\"type\":\"client_secret\",\"value\":\"abc\",\"expires_at\":\"%s\"}"
            .formatted(Instant.now().minus(1, ChronoUnit.DAYS)));
        Answer tooLong = post(path, ADMIN_KEY, "{\"type\":\"client_secret\",\"value\":\"abc\",\"expires_at\":\"%s\"}"
            .formatted(Instant.now().plus(800, ChronoUnit.DAYS)));

        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.json().path("errors").has("expires_at")).isTrue();
        assertThat(past.status()).isEqualTo(400);
        assertThat(past.json().path("errors").path("expires_at").asString()).contains("past");
        assertThat(tooLong.status()).isEqualTo(201);
        assertThat(tooLong.json().path("warnings").get(0).asString()).contains("24 months");
        assertThat(repository.find(app).orElseThrow().app().credentials()).hasSize(1);
    }

    @Test
    void certificateIsSelfSignedWithThumbprintsAndItsPrivateKeyStaysInTheStore() throws Exception {
        String app = createMicrosoftApp("Certificate app");

        Answer created = post("/v1/apps/" + app + "/credentials", ADMIN_KEY,
                "{\"type\":\"certificate\",\"validity_days\":90,\"key_algorithm\":\"ec_p256\"}");

        assertThat(created.status()).as(created.body()).isEqualTo(201);
        var certificateJson = created.json().path("credential").path("certificate");
        X509Certificate certificate = Pem.certificate(certificateJson.path("pem").asString());
        certificate.verify(certificate.getPublicKey());
        assertThat(certificateJson.path("sha1_thumbprint").asString()).isEqualTo(
                HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance("SHA-1").digest(certificate.getEncoded())));
        assertThat(Instant.parse(created.json().path("credential").path("expires_at").asString()))
            .isEqualTo(certificate.getNotAfter().toInstant());
        assertThat(created.body()).doesNotContain("PRIVATE KEY");
        String credentialId = created.json().path("credential").path("id").asString();
        String privateKeyPem = repository.find(app).orElseThrow().secrets().get(credentialId);
        assertThat(Pem.privateKey(privateKeyPem).getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void invalidAppsAreRefusedNamingTheFieldAndNothingIsStored() {
        int before = repository.findAll().size();

        Answer noProvider = post("/v1/apps", ADMIN_KEY, "{\"name\":\"x\"}");
        Answer genericWithoutToken = post("/v1/apps", ADMIN_KEY, """
                {"name":"x","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example/authorize"}""");
        Answer plainHttp = post("/v1/apps", ADMIN_KEY, """
                {"name":"x","provider":"generic","client_id":"c","authorize_endpoint":"http://idp.example/a",
                 "token_endpoint":"https://idp.example/t"}""");
        Answer badClientId = post("/v1/apps", ADMIN_KEY, """
                {"name":"x","provider":"microsoft","tenant":"organizations","client_id":"not-a-guid"}""");
        Answer certificateForGoogle = post("/v1/apps/" + createGoogleApp() + "/credentials", ADMIN_KEY,
                "{\"type\":\"certificate\"}");

        assertThat(noProvider.json().path("errors").has("provider")).isTrue();
        assertThat(genericWithoutToken.json().path("errors").has("token_endpoint")).isTrue();
        assertThat(plainHttp.json().path("errors").has("authorize_endpoint")).isTrue();
        assertThat(badClientId.json().path("errors").has("client_id")).isTrue();
        assertThat(certificateForGoogle.status()).isEqualTo(400);
        assertThat(repository.findAll()).hasSize(before + 1);
    }

    private String createGoogleApp() {
        return post("/v1/apps", ADMIN_KEY,
                "{\"name\":\"Gmail\",\"provider\":\"google\",\"client_id\":\"123.apps.googleusercontent.com\"}")
            .text("id");
    }

    @Test
    void patchChangesOnlyWhatIsGivenAndTheProviderNever() {
        String app = createMicrosoftApp("Before");

        Answer renamed = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, "{\"name\":\"After\"}");
        Answer providerChange = call("PATCH", "/v1/apps/" + app, ADMIN_KEY, "{\"provider\":\"google\"}");

        assertThat(renamed.text("name")).isEqualTo("After");
        assertThat(renamed.text("tenant")).isEqualTo("contoso.onmicrosoft.com");
        assertThat(providerChange.status()).isEqualTo(400);
        assertThat(call("DELETE", "/v1/apps/" + app, ADMIN_KEY, null).status()).isEqualTo(204);
        assertThat(get("/v1/apps/" + app, ADMIN_KEY).status()).isEqualTo(404);
    }
}
