package dev.postern.broker.expiry;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real webhook endpoint on 127.0.0.1 that records every delivery and checks its Standard
 * Webhooks signature independently of the broker's code: HMAC-SHA256 over id.timestamp.body with
 * the base64-decoded part of the whsec_ secret.
 */
final class WebhookReceiver implements AutoCloseable {

    /** One delivery as received. */
    record Delivery(String id, String timestamp, String signature, String body, JsonNode json, boolean signatureValid) {
    }

    final String secret;

    private final byte[] key;

    private final HttpServer server;

    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    private final AtomicInteger attempts = new AtomicInteger();

    private volatile int status;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    WebhookReceiver(int status) throws IOException {
        this.key = new byte[32];
        new SecureRandom().nextBytes(key);
        this.secret = "whsec_" + Base64.getEncoder().encodeToString(key);
        this.status = status;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hooks/postern", exchange -> {
            attempts.incrementAndGet();
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = exchange.getRequestHeaders().getFirst("webhook-id");
            String timestamp = exchange.getRequestHeaders().getFirst("webhook-timestamp");
            String signature = exchange.getRequestHeaders().getFirst("webhook-signature");
            if (this.status / 100 == 2) {
                deliveries.add(new Delivery(id, timestamp, signature, body, JSON.readTree(body),
                        expectedSignature(id, timestamp, body).equals(signature)));
            }
            exchange.sendResponseHeaders(this.status, -1);
            exchange.close();
        });
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/postern");
    }

    String expectedSignature(String id, String timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return "v1," + Base64.getEncoder()
                .encodeToString(mac.doFinal((id + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
        }
        catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    List<Delivery> deliveries() {
        return new ArrayList<>(deliveries);
    }

    int attempts() {
        return attempts.get();
    }

    /** Waits until {@code count} deliveries arrived, then a little longer to catch any extra one. */
    List<Delivery> awaitDeliveries(int count) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (deliveries.size() < count && System.nanoTime() < deadline) {
            sleep(50);
        }
        sleep(500);
        return deliveries();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    /** The objects of a delivery's data as maps of field to text. */
    static List<Map<String, String>> objects(Delivery delivery) {
        List<Map<String, String>> objects = new ArrayList<>();
        for (JsonNode object : delivery.json().path("data").path("objects")) {
            Map<String, String> fields = new java.util.LinkedHashMap<>();
            object.properties().forEach(entry -> fields.put(entry.getKey(), entry.getValue().asString()));
            objects.add(fields);
        }
        return objects;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
