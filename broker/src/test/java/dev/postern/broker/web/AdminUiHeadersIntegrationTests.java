package dev.postern.broker.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    @Test
    void theAppsHashedScriptsAreKeptByTheBrowserAndItsPageIsNot() throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> index = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(index.headers().firstValue("Cache-Control")).hasValueSatisfying(value -> assertThat(value).contains("no-store"));
            Matcher script = Pattern.compile("src=\"(/admin/assets/[^\"]+\\.js)\"").matcher(index.body());
            assertThat(script.find()).as(index.body()).isTrue();
            HttpResponse<String> asset = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + script.group(1))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(asset.statusCode()).isEqualTo(200);
            assertThat(asset.headers().firstValue("Cache-Control")).hasValue("max-age=31536000, public, immutable");
            assertThat(asset.headers().firstValue("Pragma")).isEmpty();
            // Still the app's own headers: only caching differs.
            assertThat(asset.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        }
    }
}
