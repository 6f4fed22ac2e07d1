package dev.postern.broker.connect;

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
 * Guessing connect links: each link secret or callback state that names no link cost a store read
 * and was not counted. Now they count against their address with failed API keys; past the
 * per-address limit the connect pages answer 429 without looking the link up.
 */
class ConnectLinkGuessingIntegrationTests extends ApiIntegrationTest {

    private static final int PER_ADDRESS = 30;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @DynamicPropertySource
    static void limit(DynamicPropertyRegistry registry) {
        registry.add("postern.access.max-failed-authentications-per-address", () -> String.valueOf(PER_ADDRESS));
    }

    private HttpResponse<String> open(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String random() {
        return UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
    }

    @Test
    void pastTheAddressLimitUnknownLinksAndStatesAreRefusedWithoutAStoreRead() throws Exception {
        for (int i = 0; i < PER_ADDRESS / 2; i++) {
            assertThat(open("/connect/" + random()).statusCode()).isEqualTo(400);
            assertThat(open("/oauth2/callback?state=" + random() + ".x&code=c").statusCode()).isEqualTo(400);
        }

        double readsBefore = storeRequests("get", "connect-links");
        HttpResponse<String> link = open("/connect/" + random());
        assertThat(link.statusCode()).isEqualTo(429);
        assertThat(link.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(link.body()).contains("Too many attempts");
        assertThat(open("/oauth2/callback?state=" + random() + ".x&code=c").statusCode()).isEqualTo(429);
        assertThat(storeRequests("get", "connect-links") - readsBefore).as("store reads for the refused guesses").isZero();
    }
}
