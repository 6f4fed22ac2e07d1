package dev.postern.broker.expiry;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.MutableClock;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.providers.ClientAuthentication;
import dev.postern.broker.providers.microsoft.GraphTokenSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * E-mail alerts at a real SMTP server, and Graph discovery against a local server that answers
 * as Microsoft documents the application resource.
 */
class ExpiryNotifiersIntegrationTests {

    private static final String ADMIN_KEY = TestBroker.newAdminKey();

    private static final Instant START = Instant.parse("2030-03-01T09:00:00Z");

    private static final String GRAPH_TOKEN = "graph-test-token-" + UUID.randomUUID();

    private static String createApp(TestBroker broker, String name) {
        Answer app = broker.api.call("POST", "/v1/apps", ADMIN_KEY, """
                {"name":"%s","provider":"microsoft","tenant":"contoso.onmicrosoft.com",
                 "client_id":"11111111-2222-3333-4444-555555555555"}""".formatted(name));
        assertThat(app.status()).as(app.body()).isEqualTo(201);
        return app.json().path("id").asString();
    }

    private static String addSecret(TestBroker broker, String appId, String value, Instant expiresAt) {
        Answer added = broker.api.call("POST", "/v1/apps/" + appId + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"%s","expires_at":"%s"}""".formatted(value, expiresAt));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        return added.json().path("credential").path("id").asString();
    }

    @Test
    void alertMailReachesARealSmtpServerWithWhatWhenAndWhatToDo() throws Exception {
        String secretValue = "mail-test-secret-" + UUID.randomUUID();
        MutableClock clock = new MutableClock(START);
        try (LocalSmtpServer smtp = LocalSmtpServer.start();
                TestBroker broker = TestBroker.start("postern-expiry-" + UUID.randomUUID() + "/", ADMIN_KEY,
                        Map.of("spring.mail.host", "127.0.0.1", "spring.mail.port", smtp.port,
                                "postern.expiry.mail.to", "secops@example.test", "postern.expiry.mail.from",
                                "postern@example.test"), clock)) {
            String appId = createApp(broker, "Mail alerts");
            String credentialId = addSecret(broker, appId, secretValue, START.plus(Duration.ofDays(6)).plusSeconds(60));

            broker.bean(ExpiryScanner.class).scan();

            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!smtp.received().contains("END MESSAGE") && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            String received = smtp.received();
            assertThat(received).contains("To: secops@example.test")
                .contains("Subject: [Postern] 1 credential of app 'Mail alerts' expires within 7 days")
                .contains(credentialId)
                .contains("Expires: " + START.plus(Duration.ofDays(6)).plusSeconds(60))
                .contains(broker.publicUrl() + "/admin/apps/" + appId)
                .doesNotContain(secretValue);
            assertThat(received.split("END MESSAGE", -1)).as("one mail for one app").hasSize(2);
        }
    }

    @Test
    void graphDiscoveryTracksEntraCredentialsThatPosternDoesNotManage() throws Exception {
        MutableClock clock = new MutableClock(START);
        Instant managedEnd = START.plus(Duration.ofDays(200));
        Instant unmanagedEnd = START.plus(Duration.ofDays(10));
        String managedSecret = "managed-" + UUID.randomUUID();
        CopyOnWriteArrayList<String> requests = new CopyOnWriteArrayList<>();
        HttpServer graph = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        // The shape of GET /v1.0/applications(appId='{id}')?$select=passwordCredentials,keyCredentials as documented.
        String application = """
                {
                  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications(passwordCredentials,keyCredentials)/$entity",
                  "passwordCredentials": [
                    {"customKeyIdentifier": null, "displayName": "entered in Postern", "endDateTime": "%s",
                     "hint": "abc", "keyId": "4e2ab0a4-5f1d-4e52-a3b4-2e0e3b2d1c01", "secretText": null,
                     "startDateTime": "2030-01-01T00:00:00Z"},
                    {"customKeyIdentifier": null, "displayName": "made in the portal", "endDateTime": "%s",
                     "hint": "xyz", "keyId": "9C1D3F7E-0A2B-4C5D-8E9F-112233445566", "secretText": null,
                     "startDateTime": "2030-01-01T00:00:00Z"}
                  ],
                  "keyCredentials": []
                }""".formatted(managedEnd.plusSeconds(20), unmanagedEnd);
        graph.createContext("/v1.0/", exchange -> {
            requests.add(exchange.getRequestURI().getRawPath() + "?" + exchange.getRequestURI().getRawQuery() + " "
                    + exchange.getRequestHeaders().getFirst("Authorization"));
            boolean authorized = ("Bearer " + GRAPH_TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = (authorized ? application : "{\"error\":{\"code\":\"InvalidAuthenticationToken\"}}")
                .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(authorized ? 200 : 401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        graph.start();
        try (WebhookReceiver receiver = new WebhookReceiver(204);
                TestBroker broker = TestBroker.start("postern-expiry-" + UUID.randomUUID() + "/", ADMIN_KEY,
                        Map.of("postern.expiry.graph-discovery.enabled", "true", "postern.expiry.graph-base-url",
                                "http://127.0.0.1:" + graph.getAddress().getPort(), "postern.expiry.webhook.url",
                                receiver.url().toString(), "postern.expiry.webhook.secret", receiver.secret),
                        clock,
                        // Graph is asked as the app itself, with its active credential: the token only for that one.
                        (GraphTokenSource) app -> app.authentication().equals(new ClientAuthentication.Secret(managedSecret)) ? GRAPH_TOKEN
                                : "not-the-active-credential")) {
            String appId = createApp(broker, "Discovered");
            String managed = addSecret(broker, appId, managedSecret, managedEnd);
            Answer promoted = broker.api.call("POST", "/v1/apps/" + appId + "/credentials/" + managed + "/promote",
                    ADMIN_KEY, "{\"force\":true,\"reason\":\"not verified in this test\"}");
            assertThat(promoted.status()).as(promoted.body()).isEqualTo(200);

            broker.bean(ExpiryScanner.class).scan();

            assertThat(requests).contains("/v1.0/applications(appId=%2711111111-2222-3333-4444-555555555555%27)"
                    + "?$select=passwordCredentials,keyCredentials Bearer " + GRAPH_TOKEN);
            Answer listed = broker.api.call("GET", "/v1/expiry", ADMIN_KEY, null);
            assertThat(listed.json().path("items")).hasSize(2);
            var unmanaged = listed.json().path("items").get(0);
            assertThat(unmanaged.path("id").asString()).isEqualTo("entra_9c1d3f7e-0a2b-4c5d-8e9f-112233445566");
            assertThat(unmanaged.path("managed").asBoolean()).isFalse();
            assertThat(unmanaged.path("state").asString()).isEqualTo("warning");
            assertThat(unmanaged.path("days_left").asLong()).isEqualTo(10);
            assertThat(listed.json().path("items").get(1).path("id").asString()).isEqualTo(managed);
            var delivery = receiver.awaitDeliveries(1);
            assertThat(delivery).hasSize(1);
            assertThat(WebhookReceiver.objects(delivery.getFirst())).singleElement().satisfies(object -> {
                assertThat(object).containsEntry("managed", "false").containsEntry("threshold", "14d");
                assertThat(object.get("label")).contains("made in the portal").doesNotContain("xyz");
            });
            assertThat(listed.body()).doesNotContain(GRAPH_TOKEN);
        }
        finally {
            graph.stop(0);
        }
    }
}
