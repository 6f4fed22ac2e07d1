package dev.postern.broker.expiry;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.testing.MutableClock;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.expiry.WebhookReceiver.Delivery;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The expiry scan end to end on a real Vault: brokers as separate application contexts on one
 * store prefix, time moved by a shared clock, alerts counted at a real webhook endpoint that
 * checks their signatures.
 */
class ExpiryAlertsIntegrationTests {

    private static final String ADMIN_KEY = TestBroker.newAdminKey();

    private static final Instant START = Instant.parse("2030-03-01T09:00:00Z");

    private static final String SECRET_VALUE = "client-secret-never-in-alerts-" + UUID.randomUUID();

    private static Map<String, Object> webhook(WebhookReceiver receiver) {
        return Map.of("postern.expiry.webhook.url", receiver.url().toString(), "postern.expiry.webhook.secret",
                receiver.secret, "postern.expiry.webhook.initial-backoff", "50ms", "postern.expiry.webhook.max-attempts",
                "3");
    }

    private static String createAppWithActiveSecret(TestBroker broker, String name, Instant expiresAt) {
        Answer app = broker.api.call("POST", "/v1/apps", ADMIN_KEY, """
                {"name":"%s","provider":"microsoft","tenant":"contoso.onmicrosoft.com",
                 "client_id":"11111111-2222-3333-4444-555555555555"}""".formatted(name));
        assertThat(app.status()).as(app.body()).isEqualTo(201);
        String appId = app.json().path("id").asString();
        String credential = addSecret(broker, appId, SECRET_VALUE, expiresAt);
        Answer promoted = broker.api.call("POST", "/v1/apps/" + appId + "/credentials/" + credential + "/promote",
                ADMIN_KEY, "{\"force\":true,\"reason\":\"test without a provider\"}");
        assertThat(promoted.status()).as(promoted.body()).isEqualTo(200);
        return appId;
    }

    private static String addSecret(TestBroker broker, String appId, String value, Instant expiresAt) {
        Answer added = broker.api.call("POST", "/v1/apps/" + appId + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"%s","expires_at":"%s","description":"portal secret"}"""
            .formatted(value, expiresAt));
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        return added.json().path("credential").path("id").asString();
    }

    /** Both replicas scan at the same moment, as two schedulers whose intervals line up would. */
    private static void scanConcurrently(TestBroker... brokers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(brokers.length);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<ExpiryScanner.Snapshot>> scans = new java.util.ArrayList<>();
            for (TestBroker broker : brokers) {
                Callable<ExpiryScanner.Snapshot> scan = () -> {
                    start.await();
                    return broker.bean(ExpiryScanner.class).scan();
                };
                scans.add(pool.submit(scan));
            }
            start.countDown();
            for (Future<ExpiryScanner.Snapshot> scan : scans) {
                scan.get();
            }
        }
        finally {
            pool.shutdownNow();
        }
    }

    private static double alertReads(TestBroker broker) {
        return broker.bean(MeterRegistry.class).find(CountingSecretStore.METRIC).tag("operation", "get")
            .tag("collection", "alerts").counters().stream().mapToDouble(Counter::count).sum();
    }

    @Test
    void secretCrossingEachThresholdAlertsOnceEachAcrossRestartAndReplicasThenRotationResolves() throws Exception {
        String prefix = "postern-expiry-" + UUID.randomUUID() + "/";
        MutableClock clock = new MutableClock(START);
        try (WebhookReceiver receiver = new WebhookReceiver(204)) {
            Map<String, Object> config = webhook(receiver);
            String appId;
            String credentialId;
            TestBroker first = TestBroker.start(prefix, ADMIN_KEY, config, clock);
            try {
                appId = createAppWithActiveSecret(first, "Sales mail", START.plus(Duration.ofDays(31)));
                credentialId = first.api.call("GET", "/v1/apps/" + appId, ADMIN_KEY, null)
                    .json().path("credentials").get(0).path("id").asString();

                first.bean(ExpiryScanner.class).scan();
                assertThat(receiver.awaitDeliveries(0)).as("31 days left: no threshold crossed").isEmpty();

                clock.advance(Duration.ofDays(1));
                first.bean(ExpiryScanner.class).scan();
                first.bean(ExpiryScanner.class).scan();
                List<Delivery> thirty = receiver.awaitDeliveries(1);
                assertThat(thirty).hasSize(1);
                assertThat(thirty.getFirst().json().path("type").asString()).isEqualTo("expiry.expiring");
                assertThat(WebhookReceiver.objects(thirty.getFirst())).singleElement().satisfies(object -> {
                    assertThat(object).containsEntry("id", credentialId).containsEntry("threshold", "30d")
                        .containsEntry("days_left", "30").containsEntry("state", "warning")
                        .containsEntry("action_url", first.publicUrl() + "/admin/apps/" + appId);
                });
            }
            finally {
                first.close();
            }

            // A restart: a new context on the same store. Past the dead owner's lease it alerts again, but 30d is stored as fired.
            clock.advance(Duration.ofHours(2));
            TestBroker restarted = TestBroker.start(prefix, ADMIN_KEY, config, clock);
            TestBroker replica = TestBroker.start(prefix, ADMIN_KEY, config, clock);
            try {
                assertThat(restarted.bean(ExpiryScanner.class).scan().alerted()).isTrue();
                assertThat(receiver.awaitDeliveries(1)).as("no second 30d alert after a restart").hasSize(1);

                Map<Duration, String> steps = new java.util.LinkedHashMap<>();
                steps.put(Duration.ofDays(16).minusHours(2), "14d");
                steps.put(Duration.ofDays(7), "7d");
                steps.put(Duration.ofDays(6), "1d");
                steps.put(Duration.ofDays(1), "expired");
                int expected = 1;
                for (Map.Entry<Duration, String> step : steps.entrySet()) {
                    clock.advance(step.getKey());
                    scanConcurrently(restarted, replica);
                    scanConcurrently(restarted, replica);
                    expected++;
                    List<Delivery> deliveries = receiver.awaitDeliveries(expected);
                    assertThat(deliveries).as("after the %s step", step.getValue()).hasSize(expected);
                    assertThat(WebhookReceiver.objects(deliveries.getLast())).singleElement()
                        .satisfies(object -> assertThat(object).containsEntry("threshold", step.getValue()));
                }
                assertThat(receiver.deliveries().getLast().json().path("type").asString()).isEqualTo("expiry.expired");

                Answer health = restarted.api.call("GET", "/actuator/health/expiry", ADMIN_KEY, null);
                assertThat(health.status()).isEqualTo(503);
                assertThat(health.json().path("status").asString()).isEqualTo("DOWN");
                assertThat(health.json().path("details").path("expired_in_use").get(0).path("id").asString())
                    .isEqualTo(credentialId);

                Answer listed = replica.api.call("GET", "/v1/expiry", ADMIN_KEY, null);
                assertThat(listed.status()).isEqualTo(200);
                assertThat(listed.json().path("items").get(0).path("state").asString()).isEqualTo("expired");
                assertThat(listed.json().path("items").get(0).path("fired_thresholds").toString())
                    .contains("30d", "14d", "7d", "1d", "expired");
                // The replica that alerted knows every app's alert state from its scan: its page reads
                // only the failed notifications' document (also under alerts/), no app's state.
                TestBroker holder = restarted.bean(ExpiryScanner.class).lastScan().orElseThrow().alerted() ? restarted : replica;
                double alertReadsBefore = alertReads(holder);
                Answer fromHolder = holder.api.call("GET", "/v1/expiry", ADMIN_KEY, null);
                assertThat(fromHolder.json().path("items").get(0).path("fired_thresholds").toString())
                    .contains("30d", "14d", "7d", "1d", "expired");
                assertThat(alertReads(holder) - alertReadsBefore).as("alert documents read by the page").isEqualTo(1.0);

                // Rotation: a new secret promoted, the old one deleted.
                String replacement = addSecret(restarted, appId, "replacement-" + UUID.randomUUID(),
                        clock.instant().plus(Duration.ofDays(200)));
                Answer promoted = restarted.api.call("POST", "/v1/apps/" + appId + "/credentials/" + replacement + "/promote",
                        ADMIN_KEY, "{\"force\":true,\"reason\":\"rotation test\"}");
                assertThat(promoted.status()).as(promoted.body()).isEqualTo(200);
                assertThat(restarted.api.call("DELETE", "/v1/apps/" + appId + "/credentials/" + credentialId,
                        ADMIN_KEY, null).status()).isEqualTo(200);
                scanConcurrently(restarted, replica);
                scanConcurrently(restarted, replica);

                List<Delivery> all = receiver.awaitDeliveries(6);
                assertThat(all).hasSize(6);
                Delivery resolved = all.getLast();
                assertThat(resolved.json().path("type").asString()).isEqualTo("expiry.resolved");
                assertThat(resolved.json().path("data").path("incident_closed").asBoolean()).isTrue();
                assertThat(WebhookReceiver.objects(resolved)).singleElement()
                    .satisfies(object -> assertThat(object).containsEntry("id", credentialId));
                assertThat(all).extracting(d -> d.json().path("data").path("incident_id").asString())
                    .as("one incident for the whole run").containsOnly(all.getFirst().json().path("data").path("incident_id").asString());
                assertThat(all).allSatisfy(delivery -> {
                    assertThat(delivery.signatureValid()).as("signature of %s", delivery.id()).isTrue();
                    assertThat(delivery.body()).doesNotContain(SECRET_VALUE).doesNotContain(receiver.secret)
                        .doesNotContain(receiver.secret.substring("whsec_".length()));
                });
                assertThat(all).extracting(Delivery::id).doesNotHaveDuplicates();

                assertThat(restarted.api.call("GET", "/actuator/health/expiry", ADMIN_KEY, null).status()).isEqualTo(200);
                String metrics = restarted.api.call("GET", "/actuator/prometheus", ADMIN_KEY, null).body();
                assertThat(metrics).contains("postern_credential_expiry_timestamp_seconds{app=\"" + appId + "\",credential=\""
                        + replacement + "\",type=\"client_secret\"}");
                assertThat(metrics).doesNotContain("credential=\"" + credentialId + "\"");
            }
            finally {
                restarted.close();
                replica.close();
            }
        }
    }

    @Test
    void webhookThatKeepsFailingIsTriedMaxAttemptsThenListedAsFailedAndCounted() throws Exception {
        String prefix = "postern-expiry-" + UUID.randomUUID() + "/";
        MutableClock clock = new MutableClock(START);
        try (WebhookReceiver receiver = new WebhookReceiver(503);
                TestBroker broker = TestBroker.start(prefix, ADMIN_KEY, webhook(receiver), clock)) {
            String appId = createAppWithActiveSecret(broker, "Failing hook", START.plus(Duration.ofDays(5)));

            broker.bean(ExpiryScanner.class).scan();

            long deadline = System.nanoTime() + 20_000_000_000L;
            Answer listed;
            do {
                WebhookReceiver.sleep(100);
                listed = broker.api.call("GET", "/v1/expiry", ADMIN_KEY, null);
            }
            while (listed.json().path("failed_notifications").isEmpty() && System.nanoTime() < deadline);
            assertThat(receiver.attempts()).isEqualTo(3);
            assertThat(listed.json().path("failed_notifications")).hasSize(1);
            assertThat(listed.json().path("failed_notifications").get(0).path("app_id").asString()).isEqualTo(appId);
            assertThat(listed.json().path("failed_notifications").get(0).path("last_error").asString()).isEqualTo("HTTP 503");
            assertThat(listed.json().path("failed_notifications").get(0).path("attempts").asInt()).isEqualTo(3);
            assertThat(listed.body()).doesNotContain(receiver.secret.substring("whsec_".length()));
            String metrics = broker.api.call("GET", "/actuator/prometheus", ADMIN_KEY, null).body();
            assertThat(metrics).contains("postern_notifications_failed_total{notifier=\"webhook\"} 1.0");
            assertThat(metrics).contains("postern_alerts_total{kind=\"expiring\"} 1.0");
        }
    }
}
