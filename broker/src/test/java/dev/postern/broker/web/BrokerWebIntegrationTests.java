package dev.postern.broker.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.postern.broker.Role;
import dev.postern.broker.access.ApiClientRepository;
import dev.postern.broker.access.ApiKeys;

import dev.postern.broker.testing.TestBroker;

import static org.assertj.core.api.Assertions.assertThat;

/** The broker started as `scripts/run` starts it: embedded store, bootstrap admin, health, problems. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class BrokerWebIntegrationTests {

    private static final Path DATA = TestBroker.embeddedDataFolder("web-test");


    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestBroker.embeddedProperties(registry, DATA, "");
    }

    @LocalServerPort
    int port;

    @Autowired
    ApiClientRepository clients;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthIsUpWithTheEmbeddedStoreAndShowsItsDetailsOnlyToAnAdmin() throws Exception {
        HttpResponse<String> anonymous = get("/actuator/health");
        HttpResponse<String> admin = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
            .header("Authorization", "Bearer " + Files.readString(DATA.resolve("bootstrap-admin-key")).trim())
            .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(anonymous.statusCode()).isEqualTo(200);
        assertThat(anonymous.body()).contains("\"status\":\"UP\"").doesNotContain("embedded").doesNotContain("store");
        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(admin.body()).contains("\"status\":\"UP\"").contains("\"backend\":\"embedded\"");
    }

    @Test
    void everyResponseCarriesARequestIdAndAKeptCallerId() throws Exception {
        assertThat(get("/actuator/health").headers().firstValue(RequestIdFilter.HEADER)).isPresent();

        HttpResponse<String> echoed = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
            .header(RequestIdFilter.HEADER, "caller-id-12345")
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(echoed.headers().firstValue(RequestIdFilter.HEADER)).hasValue("caller-id-12345");
    }

    @Test
    void unknownPathIsDeniedWithProblemJsonTypeAndRequestId() throws Exception {
        HttpResponse<String> response = get("/no-such-thing");

        // Deny by default: a path no rule lists is refused before anything could serve it.
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        String requestId = response.headers().firstValue(RequestIdFilter.HEADER).orElseThrow();
        assertThat(response.body()).contains("\"type\":\"https://postern.dev/problems/unauthorized\"")
            .contains("\"request_id\":\"" + requestId + "\"")
            .doesNotContain("Exception")
            .doesNotContain("trace");
    }

    @Test
    void v1WithoutKeyThenProblemJson401() throws Exception {
        HttpResponse<String> response = get("/v1/apps");

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(response.body()).contains("\"type\":\"https://postern.dev/problems/unauthorized\"");
    }

    @Test
    void adminPlaceholderIsServedAtAdmin() throws Exception {
        HttpResponse<String> redirect = get("/admin");
        assertThat(redirect.statusCode()).isEqualTo(302);

        HttpResponse<String> page = get("/admin/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>Postern admin</title>").contains("/admin/assets/");
    }

    @Test
    void firstStartCreatesOneAdminWhoseKeyIsInAnOwnerOnlyFile() throws Exception {
        Path keyFile = DATA.resolve("bootstrap-admin-key");
        String key = Files.readString(keyFile).trim();

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        assertThat(key).startsWith(ApiKeys.PREFIX).hasSizeGreaterThanOrEqualTo(46);
        ApiClientRepository.StoredClient admin = clients.find(ApiKeys.clientIdFor(key)).orElseThrow();
        assertThat(admin.client().role()).isEqualTo(Role.ADMIN);
        assertThat(ApiKeys.hashesMatch(admin.keyHash(), ApiKeys.hash(key))).isTrue();
        assertThat(clients.findAll()).hasSize(1);
    }
}
