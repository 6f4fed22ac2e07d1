package dev.postern.broker.access;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.postern.broker.testing.ApiIntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/** An idle session is refused on a real broker; its own broker, because the timeout is short. */
@TestPropertySource(properties = "postern.admin.session-idle-timeout=2s")
class AdminSessionExpiryIntegrationTests extends ApiIntegrationTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private int statusOf(String path, String cookie) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Cookie", "postern_session=" + cookie)
            .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void anIdleSessionIsRefused() throws Exception {
        HttpResponse<String> signedIn = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/session"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"api_key\":\"" + ADMIN_KEY + "\"}"))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(signedIn.statusCode()).isEqualTo(204);
        String setCookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = setCookie.substring("postern_session=".length(), setCookie.indexOf(';'));
        assertThat(statusOf("/v1/apps", cookie)).isEqualTo(200);

        Thread.sleep(2_500);

        assertThat(statusOf("/v1/apps", cookie)).isEqualTo(401);
        assertThat(statusOf("/admin/session", cookie)).isEqualTo(401);
    }
}
