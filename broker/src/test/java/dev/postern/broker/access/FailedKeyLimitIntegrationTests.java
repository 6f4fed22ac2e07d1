package dev.postern.broker.access;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failed API keys are limited per source address and key prefix, after the key was checked: a
 * valid key always gets in, however many wrong ones came from its address (finding 4: twenty bad
 * keys a minute from one address used to lock every valid key of that address out).
 */
class FailedKeyLimitIntegrationTests extends ApiIntegrationTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> getApps(String key, String forwardedFor) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/apps"))
            .header("Authorization", "Bearer " + key);
        if (forwardedFor != null) {
            request.header("X-Forwarded-For", forwardedFor);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String guess(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "") + "xxxxxxxx";
    }

    @Test
    void aValidKeyAuthenticatesAfterAnyNumberOfFailuresFromItsAddress() throws Exception {
        String prefix = "pst_" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 20; i++) {
            assertThat(getApps(guess(prefix), null).statusCode()).isEqualTo(401);
        }
        HttpResponse<String> limited = getApps(guess(prefix), null);
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Retry-After")).hasValue("60");
        assertThat(limited.body()).contains("too-many-failed-authentications").doesNotContain(prefix.substring(4));

        assertThat(getApps(ADMIN_KEY, null).statusCode()).isEqualTo(200);
        assertThat(getApps(guess("pst_" + UUID.randomUUID().toString().substring(0, 8)), null).statusCode())
            .as("another key prefix from the same address is counted on its own").isEqualTo(401);
    }

    @Test
    void forwardedHeadersFromAnUntrustedPeerDoNotChangeTheCountedAddress() throws Exception {
        String prefix = "pst_" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 20; i++) {
            getApps(guess(prefix), "203.0.113." + i);
        }

        // Had the header been believed, each failure would have counted for another address.
        assertThat(getApps(guess(prefix), "198.51.100.7").statusCode()).isEqualTo(429);
    }
}
