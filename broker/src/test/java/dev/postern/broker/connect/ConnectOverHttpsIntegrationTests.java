package dev.postern.broker.connect;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.testing.TestIdentityProvider;
import dev.postern.broker.testing.TestVault;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A broker whose {@code postern.public-url} is https (as behind a TLS ingress, while the test talks
 * plain http to its port): the connect cookie is {@code Secure; SameSite=None} and the callback,
 * the provider's cross-site {@code form_post} included, needs it. Google's sign-ins go to the test
 * identity provider here, so an unverified Google e-mail is refused through the real flow.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
class ConnectOverHttpsIntegrationTests {

    private static final String ADMIN_KEY = "pst_test_admin_" + UUID.randomUUID().toString().replace("-", "");

    private static final String PUBLIC_URL = "https://postern.example.test";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static final int PORT = TestVault.freePort();

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    private final HttpClient http = HttpClient.newBuilder()
        .sslContext(TestIdentityProvider.shared().sslContext())
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();

    @DynamicPropertySource
    static void brokerBehindTls(DynamicPropertyRegistry registry) {
        TestIdentityProvider idp = TestIdentityProvider.shared();
        TestVault vault = TestVault.shared();
        registry.add("server.port", () -> PORT);
        registry.add("postern.public-url", () -> PUBLIC_URL);
        registry.add("postern.outbound.allowed-hosts", () -> "127.0.0.1,localhost");
        registry.add("spring.ssl.bundle.jks.idp.truststore.location", () -> "file:" + idp.trustStoreFile());
        registry.add("spring.ssl.bundle.jks.idp.truststore.password", () -> TestIdentityProvider.TRUST_STORE_PASSWORD);
        registry.add("spring.ssl.bundle.jks.idp.truststore.type", () -> "PKCS12");
        registry.add("postern.providers.ssl-bundle", () -> "idp");
        registry.add("postern.providers.google-authorize-endpoint", () -> idp.issuerUrl() + "/authorize");
        registry.add("postern.providers.google-token-endpoint", () -> idp.issuerUrl() + "/token");
        registry.add("postern.store.type", () -> "vault");
        registry.add("postern.store.vault.uri", vault::address);
        registry.add("postern.store.vault.token", vault::rootToken);
        String prefix = "postern-https-" + UUID.randomUUID() + "/";
        registry.add("postern.store.vault.prefix", () -> prefix);
        registry.add("postern.access.bootstrap-admin-key", () -> ADMIN_KEY);
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    private JsonNode api(String method, String path, String body) {
        HttpResponse<String> answer = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + path))
            .header("Authorization", "Bearer " + ADMIN_KEY)
            .header("Content-Type", "application/json")
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)));
        assertThat(answer.statusCode()).as(answer.body()).isBetween(200, 299);
        return JSON.readTree(answer.body());
    }

    private String appWithActiveSecret(String json) {
        String app = api("POST", "/v1/apps", json).path("id").asString();
        String credential = api("POST", "/v1/apps/" + app + "/credentials", """
                {"type":"client_secret","value":"s-%s","expires_at":"%s"}""".formatted(UUID.randomUUID(),
                Instant.now().plus(Duration.ofDays(30)))).path("credential").path("id").asString();
        api("POST", "/v1/apps/" + app + "/credentials/" + credential + "/promote", "{\"force\":true,\"reason\":\"test\"}");
        return app;
    }

    /** What an owner's browser holds after the provider sent it back: the form_post fields and the cookie set at the start. */
    private record Back(Map<String, String> form, String setCookie) {
    }

    /** Opens a new link of {@code app} on the broker's port and signs in at the provider, up to the way back. */
    private Back signIn(String app, String mailbox) {
        URI link = URI.create(api("POST", "/v1/apps/" + app + "/connect-links", "{\"login_hint\":\"" + mailbox + "\"}")
            .path("url").asString());
        assertThat(link.toString()).startsWith(PUBLIC_URL + "/connect/");
        HttpResponse<String> start = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + link.getPath())).GET());
        assertThat(start.statusCode()).as(start.body()).isEqualTo(302);
        // Without Google's prompt=consent, at which the mock would show its sign-in page instead of answering.
        URI authorize = UriComponentsBuilder.fromUriString(start.headers().firstValue("Location").orElseThrow())
            .replaceQueryParam("prompt")
            .build(true)
            .toUri();
        HttpResponse<String> provider = send(HttpRequest.newBuilder(authorize).GET());
        assertThat(provider.statusCode()).as(provider.body()).isEqualTo(302);
        URI back = URI.create(provider.headers().firstValue("Location").orElseThrow());
        assertThat(back.toString()).startsWith(PUBLIC_URL + "/oauth2/callback");
        Map<String, String> form = new LinkedHashMap<>();
        UriComponentsBuilder.fromUri(back).build(true).getQueryParams().forEach((name, values) -> form.put(name,
                java.net.URLDecoder.decode(values.getFirst(), StandardCharsets.UTF_8)));
        return new Back(form, start.headers().firstValue("Set-Cookie").orElseThrow());
    }

    /** The provider's form_post to the callback, with the browser's cookie or without. */
    private HttpResponse<String> formPost(Back back, boolean withCookie) {
        StringBuilder body = new StringBuilder();
        back.form().forEach((name, value) -> body.append(body.isEmpty() ? "" : "&")
            .append(URLEncoder.encode(name, StandardCharsets.UTF_8)).append('=')
            .append(URLEncoder.encode(value, StandardCharsets.UTF_8)));
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/oauth2/callback"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (withCookie) {
            request.header("Cookie", back.setCookie().substring(0, back.setCookie().indexOf(';')));
        }
        return send(request);
    }

    private void nextSignIn(String mailbox, boolean verified) {
        idp.server().enqueueCallback(new DefaultOAuth2TokenCallback(TestIdentityProvider.ISSUER_ID, "sub-" + mailbox, "JWT",
                List.of(TestIdentityProvider.CLIENT_ID), Map.of("email", mailbox, "email_verified", verified, "scope",
                        TestIdentityProvider.MAIL_SCOPE), 3600));
    }

    @Test
    void theConnectCookieIsSecureAndSameSiteNoneAndTheFormPostNeedsIt() {
        String issuer = idp.issuerUrl();
        String app = appWithActiveSecret("""
                {"name":"Behind TLS","provider":"generic","client_id":"%s","authorize_endpoint":"%s/authorize",
                 "token_endpoint":"%s/token","scopes":["openid","email","mail","offline_access"]}"""
            .formatted(TestIdentityProvider.CLIENT_ID, issuer, issuer));
        String mailbox = "tls-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        Back back = signIn(app, mailbox);

        assertThat(back.setCookie()).contains(ConnectController.BINDING_COOKIE + "=", "Secure", "HttpOnly",
                "SameSite=None");
        HttpResponse<String> withoutCookie = formPost(back, false);
        assertThat(withoutCookie.statusCode()).as(withoutCookie.body()).isEqualTo(400);
        assertThat(withoutCookie.body()).contains("another browser");

        nextSignIn(mailbox, true);
        HttpResponse<String> withCookie = formPost(back, true);
        assertThat(withCookie.statusCode()).as(withCookie.body()).isEqualTo(200);
        assertThat(withCookie.body()).contains("Connected as " + mailbox);
    }

    @Test
    void anUnverifiedGoogleEmailIsNoMailboxAddress() {
        String app = appWithActiveSecret("""
                {"name":"Gmail","provider":"google","client_id":"%s"}""".formatted(TestIdentityProvider.CLIENT_ID));
        String unverified = "gmail-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        Back back = signIn(app, unverified);
        nextSignIn(unverified, false);

        HttpResponse<String> refused = formPost(back, true);

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        assertThat(refused.body()).contains("email_verified");
        String verified = "gmail-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        Back again = signIn(app, verified);
        nextSignIn(verified, true);
        assertThat(formPost(again, true).body()).contains("Connected as " + verified);
    }
}
