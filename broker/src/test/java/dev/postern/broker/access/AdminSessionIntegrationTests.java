package dev.postern.broker.access;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.testing.ApiIntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin web app's sign-in: the session cookie, its CSRF token, and who may hold one. */
class AdminSessionIntegrationTests extends ApiIntegrationTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** An answer with its JSON body (or a missing node). */
    record Reply(int status, JsonNode json, HttpResponse<String> response) {

        List<String> setCookies() {
            return response.headers().allValues("Set-Cookie");
        }
    }

    Reply send(String method, String path, String cookie, String csrf, String bearer, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (cookie != null) {
            request.header("Cookie", "postern_session=" + cookie);
        }
        if (csrf != null) {
            request.header("X-CSRF-Token", csrf);
        }
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.body().isBlank() ? JSON.missingNode() : JSON.readTree(response.body());
        return new Reply(response.statusCode(), json, response);
    }

    /** Signs in with {@code key} and returns the session cookie's value. */
    String signIn(String key) throws Exception {
        Reply reply = send("POST", "/admin/session", null, null, null, "{\"api_key\":\"" + key + "\"}");
        assertThat(reply.status()).as(reply.response().body()).isEqualTo(204);
        String setCookie = reply.setCookies().getFirst();
        return setCookie.substring("postern_session=".length(), setCookie.indexOf(';'));
    }

    String csrfOf(String cookie) throws Exception {
        return send("GET", "/admin/session", cookie, null, null, null).json().path("csrf_token").asString();
    }

    @Test
    void signingInSetsAHardenedCookieAndSigningOutEndsTheSession() throws Exception {
        Reply signedIn = send("POST", "/admin/session", null, null, null, "{\"api_key\":\"" + ADMIN_KEY + "\"}");

        assertThat(signedIn.status()).isEqualTo(204);
        assertThat(signedIn.setCookies()).hasSize(1);
        String setCookie = signedIn.setCookies().getFirst();
        // The servlet container's session id: 128 random bits.
        assertThat(setCookie).matches("postern_session=[A-F0-9]{32}; .*")
            .contains("; Path=/")
            .contains("; HttpOnly")
            .contains("; SameSite=Strict")
            .contains("; Max-Age=28800")
            // The test broker speaks plain http on loopback, where a Secure cookie would never come back.
            .doesNotContain("Secure");
        String cookie = setCookie.substring("postern_session=".length(), setCookie.indexOf(';'));
        assertThat(cookie).isNotEqualTo(signIn(ADMIN_KEY)).doesNotContain(ADMIN_KEY);

        Reply who = send("GET", "/admin/session", cookie, null, null, null);
        assertThat(who.status()).isEqualTo(200);
        assertThat(who.json().path("role").asString()).isEqualTo("admin");
        assertThat(who.json().path("client_id").asString()).isNotBlank();
        assertThat(who.json().path("csrf_token").asString()).hasSizeGreaterThanOrEqualTo(32);
        assertThat(who.json().path("idle_timeout_seconds").asLong()).isEqualTo(1800);
        assertThat(who.response().headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(who.response().body()).doesNotContain(ADMIN_KEY).doesNotContain(cookie);
        assertThat(send("GET", "/v1/apps", cookie, null, null, null).status()).isEqualTo(200);

        assertThat(send("DELETE", "/admin/session", cookie, null, null, null).status()).isEqualTo(403);
        Reply signedOut = send("DELETE", "/admin/session", cookie, csrfOf(cookie), null, null);
        assertThat(signedOut.status()).isEqualTo(204);
        assertThat(signedOut.setCookies().getFirst()).startsWith("postern_session=;")
            .containsAnyOf("Max-Age=0", "Expires=Thu, 01 Jan 1970");

        Reply after = send("GET", "/v1/apps", cookie, null, null, null);
        assertThat(after.status()).isEqualTo(401);
        assertThat(after.response().headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(send("GET", "/admin/session", cookie, null, null, null).status()).isEqualTo(401);
        assertThat(send("GET", "/admin/session", null, null, null, null).status()).isEqualTo(401);
    }

    @Test
    void everyChangeThroughTheCookieNeedsTheSessionsCsrfToken() throws Exception {
        String cookie = signIn(ADMIN_KEY);
        String csrf = csrfOf(cookie);
        String app = """
                {"name":"csrf app","provider":"microsoft","tenant":"contoso.onmicrosoft.com",
                 "client_id":"11111111-2222-3333-4444-555555555555"}""";

        Reply noToken = send("POST", "/v1/apps", cookie, null, null, app);
        assertThat(noToken.status()).isEqualTo(403);
        assertThat(noToken.json().path("detail").asString()).contains("X-CSRF-Token");
        assertThat(send("POST", "/v1/apps", cookie, "not-the-token", null, app).status()).isEqualTo(403);
        assertThat(send("POST", "/v1/apps", cookie, signInAndGetOtherCsrf(), null, app).status()).isEqualTo(403);

        Reply created = send("POST", "/v1/apps", cookie, csrf, null, app);
        assertThat(created.status()).isEqualTo(201);
        String appId = created.json().path("id").asString();

        String rename = "{\"name\":\"renamed\"}";
        assertThat(send("PATCH", "/v1/apps/" + appId, cookie, null, null, rename).status()).isEqualTo(403);
        assertThat(send("PATCH", "/v1/apps/" + appId, cookie, csrf, null, rename).status()).isEqualTo(200);
        assertThat(send("DELETE", "/v1/apps/" + appId, cookie, null, null, null).status()).isEqualTo(403);
        assertThat(send("DELETE", "/v1/apps/" + appId, cookie, csrf, null, null).status()).isEqualTo(204);

        // A bearer header wins over the cookie, and API-key calls never needed a CSRF token.
        assertThat(send("POST", "/v1/apps", cookie, null, ADMIN_KEY, app).status()).isEqualTo(201);
        assertThat(send("GET", "/v1/apps", cookie, null, "pst_wrong_key_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", null).status())
            .isEqualTo(401);
    }

    private String signInAndGetOtherCsrf() throws Exception {
        return csrfOf(signIn(ADMIN_KEY));
    }

    @Test
    void aWrongKeyIs401AndANonAdminKeyGetsNoSession() throws Exception {
        Reply wrong = send("POST", "/admin/session", null, null, null,
                "{\"api_key\":\"pst_not_a_real_key_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.response().headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(wrong.json().path("title").asString()).isEqualTo("Unauthorized");
        assertThat(wrong.setCookies()).isEmpty();
        assertThat(wrong.response().body()).doesNotContain("pst_not_a_real_key");

        String clientKey = createClientKey("client", "[]");
        String monitorKey = createClientKey("monitor", "[]");
        for (String key : List.of(clientKey, monitorKey)) {
            Reply refused = send("POST", "/admin/session", null, null, null, "{\"api_key\":\"" + key + "\"}");
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.setCookies()).isEmpty();
        }
        assertThat(send("POST", "/admin/session", null, null, null, "{}").status()).isEqualTo(400);
        // A form post (the only kind a foreign page can send without a preflight) is not read.
        HttpResponse<String> form = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/session"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("api_key=" + ADMIN_KEY))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(form.statusCode()).isEqualTo(415);
        assertThat(form.headers().allValues("Set-Cookie")).isEmpty();
    }

    /**
     * An API key authenticates one request and no more: no session (found by bench-scale, where
     * 30,000 token requests left 31,340 sessions on the heap); signing in still does.
     */
    @Test
    void anApiKeyRequestCreatesNoSession() throws Exception {
        for (String path : new String[] { "/v1/apps", "/actuator/health/liveness" }) {
            Reply keyed = send("GET", path, null, null, ADMIN_KEY, null);
            assertThat(keyed.status()).as(path).isEqualTo(200);
            assertThat(keyed.setCookies()).as("cookies set for %s with an API key", path).isEmpty();
        }
        String cookie = signIn(ADMIN_KEY);
        assertThat(send("GET", "/admin/session", cookie, null, null, null).status()).isEqualTo(200);
    }

    /**
     * A request authenticated by an API key that also carries the admin's session cookie (a browser
     * tab calling the API with a key) leaves that session alone: it is neither renewed under a new
     * id nor given the key's identity. Spring Security's AuthenticationFilter did give it a new id
     * (its session-fixation step), signing the admin page out; the sign-in renews the session itself.
     */
    @Test
    void anApiKeyRequestLeavesAnAccompanyingSessionAlone() throws Exception {
        String cookie = signIn(ADMIN_KEY);
        String clientKey = createClientKey("client", "[]");

        Reply keyed = send("GET", "/actuator/health/liveness", cookie, null, clientKey, null);

        assertThat(keyed.status()).isEqualTo(200);
        assertThat(keyed.setCookies()).isEmpty();
        Reply who = send("GET", "/admin/session", cookie, null, null, null);
        assertThat(who.status()).isEqualTo(200);
        assertThat(send("GET", "/v1/clients", cookie, null, null, null).status()).isEqualTo(200);
    }

    @Test
    void aSignInThatAlsoCarriesAnAuthorizationHeaderIsRefusedWithAProblemAndGetsNoSession() throws Exception {
        Reply refused = send("POST", "/admin/session", null, null, ADMIN_KEY, "{\"api_key\":\"" + ADMIN_KEY + "\"}");

        assertThat(refused.status()).as(refused.response().body()).isEqualTo(400);
        assertThat(refused.response().headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(refused.json().path("detail").asString()).contains("Authorization");
        assertThat(refused.setCookies()).isEmpty();
        assertThat(refused.response().body()).doesNotContain(ADMIN_KEY);
    }

    @Test
    void aSessionEndsWhenItsAdminKeyIsRevoked() throws Exception {
        Reply created = send("POST", "/v1/clients", null, null, ADMIN_KEY, "{\"name\":\"second admin\",\"role\":\"admin\"}");
        assertThat(created.status()).isEqualTo(201);
        String cookie = signIn(created.json().path("key").asString());
        assertThat(send("GET", "/v1/apps", cookie, null, null, null).status()).isEqualTo(200);

        assertThat(send("DELETE", "/v1/clients/" + created.json().path("id").asString(), null, null, ADMIN_KEY, null)
            .status()).isEqualTo(200);

        assertThat(send("GET", "/v1/apps", cookie, null, null, null).status()).isEqualTo(401);
        assertThat(send("GET", "/admin/session", cookie, null, null, null).status()).isEqualTo(401);
    }
}
