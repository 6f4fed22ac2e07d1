package dev.postern.broker.access;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/** Every role against every v1 endpoint: the table below is the specification. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthorizationMatrixIntegrationTests extends ApiIntegrationTest {

    /** Endpoint -> the roles that may call it. Ids in paths do not exist: the call stops at 404 or 400. */
    private static final Map<String, Set<String>> MATRIX = new LinkedHashMap<>();

    static {
        MATRIX.put("POST /v1/apps", Set.of("admin"));
        MATRIX.put("GET /v1/apps", Set.of("admin"));
        MATRIX.put("GET /v1/apps/{appId}", Set.of("admin"));
        MATRIX.put("PATCH /v1/apps/{appId}", Set.of("admin"));
        MATRIX.put("DELETE /v1/apps/{appId}", Set.of("admin"));
        MATRIX.put("POST /v1/apps/{appId}/credentials", Set.of("admin"));
        MATRIX.put("POST /v1/apps/{appId}/credentials/{credentialId}/verify", Set.of("admin"));
        MATRIX.put("POST /v1/apps/{appId}/credentials/{credentialId}/promote", Set.of("admin"));
        MATRIX.put("DELETE /v1/apps/{appId}/credentials/{credentialId}", Set.of("admin"));
        MATRIX.put("POST /v1/clients", Set.of("admin"));
        MATRIX.put("GET /v1/clients", Set.of("admin"));
        MATRIX.put("DELETE /v1/clients/{clientId}", Set.of("admin"));
        MATRIX.put("GET /v1/audit", Set.of("admin"));
        MATRIX.put("POST /v1/apps/{appId}/connect-links", Set.of("admin"));
        MATRIX.put("GET /v1/accounts", Set.of("admin", "monitor"));
        MATRIX.put("GET /v1/accounts/{accountId}", Set.of("admin", "monitor"));
        MATRIX.put("DELETE /v1/accounts/{accountId}", Set.of("admin"));
        MATRIX.put("POST /v1/accounts/{accountId}/token", Set.of("client"));
        MATRIX.put("POST /v1/token", Set.of("client"));
        MATRIX.put("GET /v1/expiry", Set.of("admin", "monitor"));
        MATRIX.put("POST /v1/accounts/{accountId}/app-passwords", Set.of("admin"));
        MATRIX.put("GET /v1/accounts/{accountId}/app-passwords", Set.of("admin"));
        MATRIX.put("DELETE /v1/accounts/{accountId}/app-passwords/{appPasswordId}", Set.of("admin"));
        MATRIX.put("GET /v1/accounts/{accountId}/mail-sessions", Set.of("admin", "monitor"));
    }

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    private final Map<String, String> keys = new LinkedHashMap<>();

    @BeforeAll
    void createOneClientPerRole() {
        keys.put("admin", ADMIN_KEY);
        keys.put("client", createClientKey("client", "[]"));
        keys.put("monitor", createClientKey("monitor", "[]"));
    }

    @Test
    void theMatrixCoversEveryV1Endpoint() {
        Set<String> served = new TreeSet<>();
        mappings.getHandlerMethods().keySet().forEach(info -> info.getPatternValues().forEach(pattern -> {
            if (pattern.startsWith("/v1/")) {
                info.getMethodsCondition().getMethods().forEach(method -> served.add(method + " " + pattern));
            }
        }));

        assertThat(served).containsExactlyInAnyOrderElementsOf(MATRIX.keySet());
    }

    Stream<Arguments> everyRoleOnEveryEndpoint() {
        return MATRIX.entrySet()
            .stream()
            .flatMap(entry -> Stream.of("admin", "client", "monitor", "anonymous")
                .map(role -> Arguments.of(entry.getKey(), role, entry.getValue().contains(role))));
    }

    @ParameterizedTest(name = "{0} as {1}: allowed={2}")
    @MethodSource("everyRoleOnEveryEndpoint")
    void roleIsLetThroughOnlyWhereTheMatrixSays(String endpoint, String role, boolean allowed) {
        String[] parts = endpoint.split(" ");
        String path = parts[1].replace("{appId}", "app_doesnotexist")
            .replace("{credentialId}", "cred_doesnotexist")
            .replace("{clientId}", "cli_doesnotexist")
            .replace("{accountId}", "acc_doesnotexist")
            .replace("{appPasswordId}", "apw_doesnotexist");
        String body = List.of("POST", "PATCH").contains(parts[0]) ? "{}" : null;

        Answer answer = call(parts[0], path, keys.get(role), body);

        if (role.equals("anonymous")) {
            assertThat(answer.status()).isEqualTo(401);
            assertThat(answer.text("type")).isEqualTo("https://postern.dev/problems/unauthorized");
        }
        else if (allowed) {
            assertThat(answer.status()).as(answer.body()).isNotIn(401, 403).isLessThan(500);
        }
        else {
            assertThat(answer.status()).as(answer.body()).isEqualTo(403);
            assertThat(answer.text("type")).isEqualTo("https://postern.dev/problems/forbidden");
        }
    }
}
