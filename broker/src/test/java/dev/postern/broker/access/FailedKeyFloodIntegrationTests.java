package dev.postern.broker.access;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.postern.broker.testing.ApiIntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A guesser that sends a new API key (a new prefix) each time escapes the per-prefix limit
 * ({@link FailedKeyLimitIntegrationTests}), and each unknown key cost a store read. Past the
 * per-address limit, that address's keys are refused unchecked for the rest of the minute: no store
 * read; a key that authenticated on this replica lately still gets in.
 */
class FailedKeyFloodIntegrationTests extends ApiIntegrationTest {

    private static final int PER_ADDRESS = 30;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @DynamicPropertySource
    static void limit(DynamicPropertyRegistry registry) {
        registry.add("postern.access.max-failed-authentications-per-address", () -> String.valueOf(PER_ADDRESS));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> getApps(String key) throws Exception {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/apps"))
            .header("Authorization", "Bearer " + key));
    }

    private HttpResponse<String> signIn(String key) throws Exception {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/session"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"api_key\":\"" + key + "\"}")));
    }

    /** A key of a new prefix each time, as a guesser would send. */
    private static String guess() {
        return "pst_" + UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
    }

    @Test
    void pastTheAddressLimitNewKeysAreRefusedUncheckedAndKeysInUseStillGetIn() throws Exception {
        assertThat(getApps(ADMIN_KEY).statusCode()).isEqualTo(200);
        String unused = createClientKey("monitor", "[]"); // valid, but never used on this replica
        for (int i = 0; i < PER_ADDRESS; i++) {
            assertThat(getApps(guess()).statusCode()).as("a new prefix each time: checked, 401").isEqualTo(401);
        }

        double readsBefore = storeRequests("get", "clients");
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> refused = getApps(guess());
            assertThat(refused.statusCode()).isEqualTo(429);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("60");
            assertThat(refused.body()).contains("too-many-failed-authentications");
        }
        assertThat(signIn(guess()).statusCode()).as("the admin sign-in too").isEqualTo(429);
        assertThat(storeRequests("get", "clients") - readsBefore).as("store reads for the refused keys").isZero();

        assertThat(getApps(ADMIN_KEY).statusCode()).as("a key in use gets in").isEqualTo(200);
        assertThat(getApps(unused).statusCode()).as("a valid key new to this replica waits out the minute")
            .isEqualTo(429);
    }
}
