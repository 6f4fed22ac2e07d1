package dev.postern.broker.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.postern.broker.testing.TestBroker;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The actuator on its own port ({@code management.server.port}), as the Helm chart runs it: the
 * same access rules hold there, and the API port no longer serves it at all.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class ManagementPortIntegrationTests {

    private static final String ADMIN_KEY = "pst_mgmt_admin_" + UUID.randomUUID().toString().replace("-", "");

    private static final Path DATA = TestBroker.embeddedDataFolder("management-port-test");


    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestBroker.embeddedProperties(registry, DATA, ADMIN_KEY);
    }

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(int to, String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to + path));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theManagementPortKeepsTheAccessRulesAndTheApiPortServesNoActuator() throws Exception {
        assertThat(managementPort).isNotEqualTo(port);

        assertThat(get(managementPort, "/actuator/prometheus", null).statusCode()).isEqualTo(401);
        assertThat(get(managementPort, "/actuator/prometheus", ADMIN_KEY).statusCode()).isEqualTo(200);
        HttpResponse<String> anonymousHealth = get(managementPort, "/actuator/health", null);
        assertThat(anonymousHealth.statusCode()).isEqualTo(200);
        assertThat(anonymousHealth.body()).contains("\"status\"").doesNotContain("components");
        assertThat(get(managementPort, "/actuator/health", ADMIN_KEY).body()).contains("components");
        assertThat(get(managementPort, "/actuator/health/liveness", null).statusCode()).isEqualTo(200);
        assertThat(get(managementPort, "/actuator;x/prometheus", null).statusCode()).isEqualTo(400);

        assertThat(get(port, "/actuator/prometheus", ADMIN_KEY).statusCode()).isEqualTo(404);
        assertThat(get(port, "/actuator/health", null).statusCode()).isIn(401, 404);
        assertThat(get(port, "/v1/apps", ADMIN_KEY).statusCode()).isEqualTo(200);
    }
}
