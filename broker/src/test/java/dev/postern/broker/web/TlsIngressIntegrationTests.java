package dev.postern.broker.web;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.postern.broker.testing.TestBroker;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The broker behind a TLS ingress (finding 6): the public URL is https while the ingress talks plain
 * http to it. The session cookie is Secure and HSTS is sent on every answer because of the public
 * URL, whatever the request looked like; forwarded headers are believed from the configured proxy.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TlsIngressIntegrationTests {

    private static final String ADMIN_KEY = "pst_tls_admin_" + UUID.randomUUID().toString().replace("-", "");

    private static final Path DATA = TestBroker.embeddedDataFolder("tls-ingress-test");


    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestBroker.embeddedProperties(registry, DATA, ADMIN_KEY);
        registry.add("postern.public-url", () -> "https://postern.example.test");
        registry.add("server.forward-headers-strategy", () -> "native");
        registry.add("server.tomcat.remoteip.internal-proxies", () -> "127\\.0\\.0\\.1");
    }

    @LocalServerPort
    int port;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder to(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    }

    @Test
    void theSessionCookieIsSecureAndHstsIsSentWhenThePublicUrlIsHttps() throws Exception {
        HttpResponse<String> signedIn = send(to("/admin/session").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"api_key\":\"" + ADMIN_KEY + "\"}")));

        assertThat(signedIn.statusCode()).isEqualTo(204);
        assertThat(signedIn.headers().firstValue("Set-Cookie")).hasValueSatisfying(
                cookie -> assertThat(cookie).startsWith("postern_session=").contains("; Secure").contains("; HttpOnly")
                    .contains("SameSite=Strict"));
        for (String path : new String[] { "/actuator/health/liveness", "/admin/", "/v1/apps" }) {
            assertThat(send(to(path)).headers().firstValue("Strict-Transport-Security")).as(path)
                .hasValueSatisfying(hsts -> assertThat(hsts).startsWith("max-age=31536000"));
        }
    }

    @Test
    void failuresAreCountedPerClientAddressTheTrustedProxyForwards() throws Exception {
        String prefix = "pst_" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 21; i++) {
            send(to("/v1/apps").header("Authorization", "Bearer " + prefix + UUID.randomUUID())
                .header("X-Forwarded-For", "203.0.113.10"));
        }
        HttpResponse<String> sameClient = send(to("/v1/apps").header("Authorization", "Bearer " + prefix + UUID.randomUUID())
            .header("X-Forwarded-For", "203.0.113.10"));
        HttpResponse<String> otherClient = send(to("/v1/apps").header("Authorization", "Bearer " + prefix + UUID.randomUUID())
            .header("X-Forwarded-For", "203.0.113.11"));

        assertThat(sameClient.statusCode()).isEqualTo(429);
        assertThat(otherClient.statusCode()).isEqualTo(401);
    }
}
