package dev.postern.broker.web;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code /v3/api-docs} is public and describes every v1 operation the broker serves, as the wire shows it. */
class OpenApiIntegrationTests extends ApiIntegrationTest {

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    private JsonNode document() throws Exception {
        Answer docs = get("/v3/api-docs", null);
        assertThat(docs.status()).as(docs.body()).isEqualTo(200);
        // Kept for people and for scripts/test-fuzz debugging: what the fuzzer reads.
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/openapi.json"), docs.body());
        return docs.json();
    }

    @Test
    void theDocumentListsEveryV1OperationAndNothingUnknown() throws Exception {
        Set<String> served = new TreeSet<>();
        mappings.getHandlerMethods().keySet().forEach(info -> info.getPatternValues()
            .stream()
            .filter(path -> path.startsWith("/v1/"))
            .forEach(path -> info.getMethodsCondition()
                .getMethods()
                .forEach(method -> served.add(method.name() + " " + path))));
        JsonNode paths = document().path("paths");
        Set<String> documented = new TreeSet<>();
        paths.properties().forEach(entry -> {
            for (RequestMethod method : RequestMethod.values()) {
                if (entry.getValue().has(method.name().toLowerCase(Locale.ROOT)) && entry.getKey().startsWith("/v1/")) {
                    documented.add(method.name() + " " + entry.getKey());
                }
            }
        });

        assertThat(served).as("the broker serves v1 operations").hasSizeGreaterThan(15);
        assertThat(documented).isEqualTo(served);
        assertThat(paths.has("/connect/{linkId}")).isTrue();
        assertThat(paths.has("/oauth2/callback")).isTrue();
        assertThat(paths.has("/admin/session")).as("the admin web app's session is not part of the v1 contract").isFalse();
    }

    @Test
    void namesAreSnakeCaseAndErrorsAreProblems() throws Exception {
        JsonNode doc = document();
        JsonNode schemas = doc.path("components").path("schemas");
        Set<String> properties = new TreeSet<>();
        schemas.properties().forEach(schema -> schema.getValue().path("properties").propertyNames().forEach(properties::add));

        assertThat(properties).contains("client_id", "expires_at", "min_ttl_seconds", "access_token", "allowed_apps");
        assertThat(properties).allSatisfy(name -> assertThat(name).matches("[a-z0-9_]+"));
        assertThat(schemas.path("Problem").path("properties").has("request_id")).isTrue();
        JsonNode appGet = doc.path("paths").path("/v1/apps/{appId}").path("get");
        assertThat(appGet.path("responses").path("404").path("content").has("application/problem+json")).isTrue();
        assertThat(appGet.path("security").toString()).contains("api_key");
        assertThat(doc.path("components").path("securitySchemes").path("api_key").path("scheme").asString())
            .isEqualTo("bearer");
    }

    /** The document's server is {@code postern.public-url}, never the Host header a caller sent. */
    @Test
    void aForgedHostHeaderDoesNotBecomeTheServer() throws Exception {
        String answer;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /v3/api-docs HTTP/1.1\r\nHost: evil.example:4444\r\n"
                    + "X-Forwarded-Host: evil-forwarded.example\r\nConnection: close\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }

        assertThat(answer).startsWith("HTTP/1.1 200");
        assertThat(answer).doesNotContain("evil.example").doesNotContain("evil-forwarded.example");
        assertThat(document().path("servers").get(0).path("url").asString()).isEqualTo("http://127.0.0.1:" + port);
    }
}
