package dev.postern.broker.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin web app and its sign-in answer with headers that keep them out of frames and foreign scripts. */
class AdminUiHeadersIntegrationTests extends ApiIntegrationTest {

    @Test
    void theAppAndItsSessionCallsCannotBeFramedAndRunOnlyTheirOwnScripts() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (String path : new String[] { "/admin/", "/admin/session" }) {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.headers().firstValue("Content-Security-Policy")).as(path)
                    .hasValueSatisfying(csp -> assertThat(csp).contains("frame-ancestors 'none'").contains("script-src 'self'"));
                assertThat(response.headers().firstValue("X-Frame-Options")).as(path).hasValue("DENY");
                assertThat(response.headers().firstValue("X-Content-Type-Options")).as(path).hasValue("nosniff");
            }
            assertThat(get("/v1/apps", ADMIN_KEY).response().headers().firstValue("Content-Security-Policy")).isEmpty();
        }
    }
}
