package dev.postern.broker.expiry;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.jspecify.annotations.Nullable;
import org.springframework.context.event.EventListener;
import org.springframework.http.MediaType;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.outbound.EndpointNotAllowedException;
import dev.postern.broker.outbound.OutboundHttp;
import dev.postern.broker.store.StoreIds;

/**
 * Posts each expiry event as JSON, signed as Standard Webhooks define it: headers
 * {@code webhook-id}, {@code webhook-timestamp} and {@code webhook-signature} =
 * {@code v1,} + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)), where the key is the
 * base64 part of the {@code whsec_} secret. The id stays the same across retries so a receiver
 * can drop duplicates.
 */
public class WebhookNotifier {

    static final String NAME = "webhook";

    private static final String SECRET_PREFIX = "whsec_";

    private final @Nullable URI url;

    private final byte @Nullable [] key;

    private final Duration timeout;

    private final NotificationDelivery delivery;

    private final Clock clock;

    private final RestClient http;

    private final JsonMapper json = JsonMapper.builder().build();

    /** A notifier that posts to {@code webhook.url} through {@code outbound}, or does nothing while it is unset. */
    public WebhookNotifier(ExpiryProperties.Webhook webhook, NotificationDelivery delivery, Clock clock,
            OutboundHttp outbound) {
        this.url = webhook.url();
        if (url != null && (webhook.secret() == null || webhook.secret().isBlank())) {
            throw new IllegalStateException(
                    "postern.expiry.webhook.url is set without postern.expiry.webhook.secret (whsec_ + base64)");
        }
        this.key = url == null ? null : decodeSecret(webhook.secret());
        this.timeout = webhook.timeout();
        this.delivery = delivery;
        this.clock = clock;
        this.http = outbound.restClient(timeout, null);
    }

    /** The signing key of a {@code whsec_} secret; the message never quotes the secret. */
    static byte[] decodeSecret(String secret) {
        String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
        try {
            byte[] key = Base64.getDecoder().decode(encoded);
            if (key.length < 24) {
                throw new IllegalArgumentException("postern.expiry.webhook.secret is too short: use 24 to 64 random bytes");
            }
            return key;
        }
        catch (IllegalArgumentException ex) {
            if (ex.getMessage() != null && ex.getMessage().startsWith("postern.")) {
                throw ex;
            }
            throw new IllegalArgumentException("postern.expiry.webhook.secret must be whsec_ followed by base64");
        }
    }

    @EventListener
    public void on(ExpiryEvent event) {
        if (url == null || key == null) {
            return;
        }
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("type", event.type());
        payload.put("timestamp", event.at().toString());
        payload.put("data", AlertMessages.data(event));
        String body = json.writeValueAsString(payload);
        String messageId = "msg_" + StoreIds.newId("x").substring(2);
        delivery.submit(NAME, messageId, event, attempt -> send(messageId, body));
    }

    private void send(String messageId, String body) throws IOException, InterruptedException {
        URI url = this.url;
        byte[] key = this.key;
        if (url == null || key == null) {
            return;
        }
        String timestamp = Long.toString(clock.instant().getEpochSecond());
        int status;
        try {
            status = http.post()
                .uri(url)
                .contentType(MediaType.APPLICATION_JSON)
                .header("webhook-id", messageId)
                .header("webhook-timestamp", timestamp)
                .header("webhook-signature", sign(key, messageId, timestamp, body))
                .body(body.getBytes(StandardCharsets.UTF_8))
                .exchange((request, response) -> response.getStatusCode().value(), true);
        }
        catch (ResourceAccessException ex) {
            // The receiver's answer is never quoted: only the kind of failure (a refused destination names its rule).
            Throwable cause = ex.getCause();
            throw new IOException("no answer: " + (cause instanceof EndpointNotAllowedException refused
                    ? "refused by the rule '" + refused.rule().code() + "'"
                    : cause == null ? ex.getClass().getSimpleName() : cause.getClass().getSimpleName()));
        }
        if (status / 100 != 2) {
            throw new IOException("HTTP " + status);
        }
    }

    /** The {@code webhook-signature} value for one message. */
    static String sign(byte[] key, String messageId, String timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] signature = mac.doFinal((messageId + "." + timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(signature);
        }
        catch (NoSuchAlgorithmException | InvalidKeyException ex) {
            throw new IllegalStateException("HMAC-SHA256 is unavailable", ex);
        }
    }
}
