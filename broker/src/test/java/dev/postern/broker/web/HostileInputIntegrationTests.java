package dev.postern.broker.web;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Flow;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile input against the broker on a real OpenBao: ids that try to leave their folder in every
 * path variable, oversized, deeply nested and ambiguous JSON, wrong media types and URLs Tomcat
 * refuses itself. Each is answered with a 4xx problem, never a 5xx, never with a stack trace or
 * an exception's class name; {@code SecretPathTests} shows that such ids cannot reach the store.
 */
class HostileInputIntegrationTests extends ApiIntegrationTest {

    /** Raw (already percent-encoded where needed) path segments; each is a valid URI segment for the client. */
    static final List<String> HOSTILE_IDS = List.of("..", "%2e%2e", "%2E%2E%2F%2E%2E%2Fsys", "..%2F..%2Fsys%2Fraw",
            "app_x%2Fcredentials", "app_x%252F..", "%2F", "%5C..%5C", "app_x%00", "%00", "a%0d%0aX-Injected:%201",
            "app_x;jsessionid=1", "APP_UPPER", "app.x", "app%20x", "%E2%80%AEapp", "%EF%BC%8F%EF%BC%8E%EF%BC%8E",
            "%C0%AE%C0%AE", "%FF%FE", "app_" + "a".repeat(5000), "%F0%9F%92%A3", "app_x%3F%3D", "~root");

    private static final HttpClient RAW = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private String clientKey;

    @BeforeEach
    void clientKey() {
        clientKey = createClientKey("client", "[]");
    }

    /** Every operation with a path variable, {@code %s} where the variable goes; the key that may call it. */
    private List<String[]> templates() {
        String app = createMicrosoftApp("hostile");
        return List.of(new String[] { "GET", "/v1/apps/%s", ADMIN_KEY }, new String[] { "PATCH", "/v1/apps/%s", ADMIN_KEY },
                new String[] { "DELETE", "/v1/apps/%s", ADMIN_KEY },
                new String[] { "POST", "/v1/apps/%s/credentials", ADMIN_KEY },
                new String[] { "POST", "/v1/apps/%s/connect-links", ADMIN_KEY },
                new String[] { "POST", "/v1/apps/" + app + "/credentials/%s/verify", ADMIN_KEY },
                new String[] { "POST", "/v1/apps/" + app + "/credentials/%s/promote", ADMIN_KEY },
                new String[] { "DELETE", "/v1/apps/" + app + "/credentials/%s", ADMIN_KEY },
                new String[] { "POST", "/v1/apps/%s/credentials/cred_x/verify", ADMIN_KEY },
                new String[] { "GET", "/v1/accounts/%s", ADMIN_KEY }, new String[] { "DELETE", "/v1/accounts/%s", ADMIN_KEY },
                new String[] { "POST", "/v1/accounts/%s/token", clientKey },
                new String[] { "DELETE", "/v1/clients/%s", ADMIN_KEY }, new String[] { "GET", "/connect/%s", null });
    }

    private HttpResponse<String> raw(String method, String rawPath, String key, String contentType, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + rawPath))
            .timeout(Duration.ofSeconds(30))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        try {
            return RAW.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (IOException ex) {
            throw new IllegalStateException(method + " " + rawPath, ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** No internals in an error body: no stack frame, no exception or framework class name. */
    static void assertNoInternals(String what, String body) {
        assertThat(body).as(what)
            .doesNotContain("Exception")
            .doesNotContain("\tat ")
            .doesNotContain("\"trace\"")
            .doesNotContainPattern("(java|jakarta|tools\\.jackson|org\\.(springframework|apache)|dev\\.postern)\\.[a-z]+\\.");
    }

    static void assertProblem(String what, HttpResponse<String> response, int... statuses) {
        List<Integer> allowed = new ArrayList<>();
        for (int status : statuses) {
            allowed.add(status);
        }
        assertThat(response.statusCode()).as(what + " -> " + response.body()).isIn(allowed);
        assertThat(response.headers().firstValue("Content-Type")).as(what)
            .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(response.body()).as(what).contains("\"type\":\"https://postern.dev/problems/").contains("\"request_id\"");
        assertNoInternals(what, response.body());
    }

    @Test
    void hostileIdsInEveryPathVariableAre404Or400ProblemsNever5xx() {
        List<String> checked = new ArrayList<>();
        for (String[] template : templates()) {
            for (String id : HOSTILE_IDS) {
                String path = template[1].formatted(id);
                String what = template[0] + " " + (path.length() > 120 ? path.substring(0, 120) + "..." : path);
                String body = "GET".equals(template[0]) || "DELETE".equals(template[0]) ? null : "{}";
                HttpResponse<String> response = raw(template[0], path, template[2], body == null ? null : "application/json", body);
                assertThat(response.statusCode()).as(what + " -> " + response.body()).isLessThan(500);
                if (path.startsWith("/connect/") && response.statusCode() == 400
                        && response.headers().firstValue("Content-Type").orElse("").startsWith("text/html")) {
                    // The owner's browser flow answers with a page, not a problem: it must still say nothing internal.
                    assertThat(response.body()).as(what).contains("does not exist");
                    assertNoInternals(what, response.body());
                }
                else {
                    assertProblem(what, response, 400, 404);
                }
                checked.add(what);
            }
        }
        assertThat(checked).hasSize(templates().size() * HOSTILE_IDS.size());
    }

    @Test
    void hostileIdsInBodiesAndQueriesAreRefusedOrUnknownNever5xx() {
        for (String id : List.of("../../sys/raw", "..\\..", "a/b", "a\u0000b", "\u202eexe", "x".repeat(5000))) {
            String json = JSON.writeValueAsString(id);
            List<HttpResponse<String>> answers = List.of(
                    raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                            "{\"name\":\"h\",\"role\":\"client\",\"allowed_apps\":[" + json + "],\"allowed_accounts\":[" + json + "]}"),
                    raw("POST", "/v1/token", clientKey, "application/json", "{\"mailbox\":" + json + "}"),
                    raw("GET", "/v1/audit?object_id=" + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8) + "&cursor="
                            + java.net.URLEncoder.encode(id, StandardCharsets.UTF_8), ADMIN_KEY, null, null));
            for (HttpResponse<String> answer : answers) {
                String what = answer.request().method() + " " + answer.request().uri().getPath() + " with " + json;
                assertThat(answer.statusCode()).as(what + " -> " + answer.body()).isLessThan(500);
                if (answer.statusCode() >= 400) {
                    assertProblem(what, answer, 400, 403, 404);
                }
            }
        }
    }

    @Test
    void aBodyOverTheLimitIs413WithContentLengthAndWhenChunked() {
        String big = "{\"name\":\"" + "x".repeat(70 * 1024) + "\",\"provider\":\"google\",\"client_id\":\"c\"}";

        assertProblem("declared length", raw("POST", "/v1/apps", ADMIN_KEY, "application/json", big), 413);
        HttpResponse<String> chunked = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/apps"))
            .header("Authorization", "Bearer " + ADMIN_KEY)
            .header("Content-Type", "application/json")
            .POST(chunked(big))
            .build());
        assertProblem("chunked", chunked, 413);
        assertThat(chunked.body()).contains("payload-too-large");
        // Just under the limit is read and judged on its content, not its size.
        String fits = "{\"name\":\"" + "x".repeat(60 * 1024) + "\",\"provider\":\"google\",\"client_id\":\"c\"}";
        assertProblem("under the limit", raw("POST", "/v1/apps", ADMIN_KEY, "application/json", fits), 400);
    }

    @Test
    void deeplyNestedJsonAndDuplicateKeysAre400Problems() {
        String deep = "{\"min_ttl_seconds\":300,\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        HttpResponse<String> nested = raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                "{\"name\":\"n\",\"role\":\"client\",\"allowed_apps\":" + "[".repeat(100) + "]".repeat(100) + "}");
        assertProblem("100 levels", nested, 400);
        assertProblem("5000 levels", raw("POST", "/v1/token", clientKey, "application/json", deep), 400);

        // Which "role" would win is the question: the broker refuses to guess.
        HttpResponse<String> duplicate = raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                "{\"name\":\"dup\",\"role\":\"monitor\",\"role\":\"admin\"}");
        assertProblem("duplicate key", duplicate, 400);
        assertThat(duplicate.body()).doesNotContain("\"key\"");
        assertThat(get("/v1/clients", ADMIN_KEY).body()).doesNotContain("\"name\":\"dup\"");
    }

    @Test
    void wrongContentTypeIs415AndBrokenJsonIs400() {
        assertProblem("text/plain", raw("POST", "/v1/apps", ADMIN_KEY, "text/plain", "{\"name\":\"x\"}"), 415);
        assertProblem("form", raw("POST", "/v1/clients", ADMIN_KEY, "application/x-www-form-urlencoded", "name=x&role=admin"), 415);
        assertProblem("xml", raw("POST", "/v1/token", clientKey, "application/xml", "<mailbox/>"), 415);
        assertProblem("broken JSON", raw("POST", "/v1/apps", ADMIN_KEY, "application/json", "{\"name\":"), 400);
        byte[] latin1 = "{\"name\":\"\u00ff\u00fe\",\"provider\":\"google\",\"client_id\":\"c\"}".getBytes(StandardCharsets.ISO_8859_1);
        assertProblem("not UTF-8", send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/apps"))
            .header("Authorization", "Bearer " + ADMIN_KEY)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(latin1))
            .build()), 400);
    }

    @Test
    void urlsTomcatRefusesAreProblemsFromTheErrorPath() throws IOException {
        // Sent over a raw socket: Java's HTTP client would refuse to send them at all.
        for (String target : List.of("/v1/apps/%zz", "/v1/apps/%", "/v1/apps/a%2Fb", "/v1/apps/a%5Cb", "/v1/apps/%00",
                "/v1/apps/a%FF", "/v1/apps/a|b", "/v1/apps/a%2e%2e%2f%2e%2e")) {
            String response = BrokerClient.rawExchange(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ADMIN_KEY
                    + "\r\nConnection: close\r\n\r\n");
            String status = response.substring(0, response.indexOf("\r\n"));
            assertThat(status).as(target + " -> " + response).matches("HTTP/1.1 4\\d\\d.*");
            assertThat(response).as(target).containsIgnoringCase("Content-Type: application/problem+json");
            assertThat(response).as(target).contains("\"type\":\"https://postern.dev/problems/");
            assertNoInternals(target, response);
        }
    }

    @Test
    void errorsFromOutsideMvcAreProblemsToo() {
        HttpResponse<String> error = raw("GET", "/error", null, null, null);
        assertThat(error.statusCode()).isGreaterThanOrEqualTo(400);
        assertThat(error.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertNoInternals("/error", error.body());
        // Deny by default: no access rule lists it, so not even an admin reaches the router.
        assertProblem("no such path", raw("GET", "/v1/no-such-thing", ADMIN_KEY, null, null), 403);
        assertProblem("no such method", raw("PUT", "/v1/apps", ADMIN_KEY, "application/json", "{}"), 405);
    }

    /** Each of these answered 500 until scripts/test-fuzz found it. */
    @Test
    void whatTheFuzzerFoundStaysFixed() {
        // A null in a list of strings reached List.copyOf: NullPointerException.
        HttpResponse<String> nullScope = raw("POST", "/v1/apps", ADMIN_KEY, "application/json",
                "{\"name\":\"n\",\"provider\":\"google\",\"client_id\":\"c\",\"scopes\":[null]}");
        assertProblem("null scope", nullScope, 400);
        assertThat(nullScope.body()).contains("scopes");
        assertProblem("null allowed app", raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                "{\"name\":\"n\",\"role\":\"client\",\"allowed_apps\":[null]}"), 400);
        // A query parameter without a name: Tomcat's InvalidParameterException when the handler read it.
        assertProblem("nameless query parameter", raw("GET", "/v1/audit?=null&limit=5", ADMIN_KEY, null, null), 400);
        assertProblem("nameless callback parameter", raw("GET", "/oauth2/callback?=x&state=a.b", null, null, null), 400);
        // A malformed multipart body: the multipart resolver failed on every endpoint, even GETs.
        String multipart = "multipart/form-data; boundary=zzz";
        assertThat(raw("GET", "/v1/apps", ADMIN_KEY, multipart, "--zzz\r\nbroken").statusCode()).isEqualTo(200);
        assertProblem("multipart to a JSON call", raw("POST", "/v1/apps", ADMIN_KEY, multipart, "--zzz\r\nbroken"), 415);
        HttpResponse<String> callback = raw("POST", "/oauth2/callback", null, multipart, "--zzz\r\nbroken");
        assertThat(callback.statusCode()).as(callback.body()).isEqualTo(400);
        assertNoInternals("multipart callback", callback.body());
        // A binding cookie with a broken %-escape: @CookieValue URL-decoded it and threw.
        for (String cookie : List.of("O{DI%&##", "rn&erMe%N", "%", "%zz")) {
            HttpResponse<String> answer = send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/oauth2/callback?state=lnk_x.y&code=c"))
                .header("Cookie", "postern_connect=" + cookie)
                .GET()
                .build());
            assertThat(answer.statusCode()).as(cookie + " -> " + answer.body()).isEqualTo(400);
            assertThat(answer.body()).as(cookie).contains("does not belong");
        }
    }

    @Test
    void timesBeyondRfc3339sFourDigitYearsAre400ProblemsAndChangeNothing() {
        // Instant.parse reads years of up to nine digits; toEpochMilli then overflowed: a 500.
        for (String query : List.of("from=%2B300000000-01-01T00:00:00Z", "to=-300000000-01-01T00:00:00Z",
                "from=%2B10000-01-01T00:00:00Z")) {
            HttpResponse<String> answer = raw("GET", "/v1/audit?" + query, ADMIN_KEY, null, null);
            assertProblem(query, answer, 400);
            assertThat(answer.body()).as(query).contains(query.substring(0, query.indexOf('=')));
        }
        // The same years in bodies were stored, and every later reader of the date had to cope with them.
        String name = "far-" + UUID.randomUUID();
        HttpResponse<String> client = raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                "{\"name\":\"" + name + "\",\"role\":\"monitor\",\"expires_at\":\"+300000000-01-01T00:00:00Z\"}");
        assertProblem("client expires_at", client, 400);
        assertThat(client.body()).contains("expires_at");
        HttpResponse<String> number = raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                "{\"name\":\"" + name + "\",\"role\":\"monitor\",\"expires_at\":1e400}");
        assertProblem("client expires_at as a number", number, 400);
        assertThat(number.body()).contains("expires_at");
        assertThat(get("/v1/clients?limit=500", ADMIN_KEY).body()).doesNotContain(name);
        String app = createMicrosoftApp("far-future");
        HttpResponse<String> credential = raw("POST", "/v1/apps/" + app + "/credentials", ADMIN_KEY, "application/json",
                "{\"type\":\"client_secret\",\"value\":\"far-future-secret\",\"expires_at\":\"+300000000-01-01T00:00:00Z\"}");
        assertProblem("credential expires_at", credential, 400);
        assertThat(credential.body()).contains("expires_at");
        assertThat(get("/v1/apps/" + app, ADMIN_KEY).body()).doesNotContain("cred_");
        // A four-digit year still works, with an offset too.
        assertThat(raw("GET", "/v1/audit?from=2026-01-01T00:00:00%2B02:00&to=9999-12-31T23:59:59Z", ADMIN_KEY, null, null)
            .statusCode()).isEqualTo(200);
    }

    @Test
    void controlCharactersInNamesAndReasonsAre400ProblemsAndChangeNothing() {
        // An app's name goes into alert e-mail subjects: a line break there would start a header of its own.
        String name = "ctl-" + UUID.randomUUID();
        for (String hostile : List.of(name + "\r\nBcc: attacker@example.test", name + "\u0000", name + "\u001b[31m")) {
            String json = JSON.writeValueAsString(hostile);
            HttpResponse<String> app = raw("POST", "/v1/apps", ADMIN_KEY, "application/json",
                    "{\"name\":" + json + ",\"provider\":\"google\",\"client_id\":\"c\"}");
            assertProblem("app name", app, 400);
            assertThat(app.body()).contains("name").contains("control characters");
            HttpResponse<String> client = raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                    "{\"name\":" + json + ",\"role\":\"monitor\"}");
            assertProblem("client name", client, 400);
        }
        String app = createMicrosoftApp("ctl-rename");
        HttpResponse<String> rename = raw("PATCH", "/v1/apps/" + app, ADMIN_KEY, "application/json",
                "{\"name\":\"x\\r\\nBcc: attacker@example.test\"}");
        assertProblem("app rename", rename, 400);
        assertThat(get("/v1/apps/" + app, ADMIN_KEY).body()).doesNotContain("attacker");
        assertThat(get("/v1/apps?limit=500", ADMIN_KEY).body()).doesNotContain(name);
        assertThat(get("/v1/clients?limit=500", ADMIN_KEY).body()).doesNotContain(name);
        // Text without control characters, accents and all, is still a name.
        assertThat(raw("POST", "/v1/clients", ADMIN_KEY, "application/json",
                "{\"name\":\"Zoë's mail client\",\"role\":\"monitor\"}").statusCode()).isEqualTo(201);
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return RAW.send(request, HttpResponse.BodyHandlers.ofString());
        }
        catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** A body without Content-Length: the client sends it chunked. */
    private static HttpRequest.BodyPublisher chunked(String body) {
        HttpRequest.BodyPublisher known = HttpRequest.BodyPublishers.ofString(body);
        return new HttpRequest.BodyPublisher() {
            @Override
            public long contentLength() {
                return -1;
            }

            @Override
            public void subscribe(Flow.Subscriber<? super java.nio.ByteBuffer> subscriber) {
                known.subscribe(subscriber);
            }
        };
    }
}
