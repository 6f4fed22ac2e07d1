package dev.postern.broker.expiry;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.MutableClock;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.expiry.WebhookReceiver.Delivery;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.store.SecretStore;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A mailbox whose owner must reconnect alerts with the admin UI's mailboxes page, never with a
 * connect link: webhooks and mail reach shared channels, and a link is a bearer capability. In the
 * metrics it is counted per app and state, without a series of its own.
 */
class MailboxAlertIntegrationTests {

    private static final String ADMIN_KEY = TestBroker.newAdminKey();

    @Test
    void aReauthAlertPointsToTheAdminPageAndCarriesNoConnectLink() {
        String prefix = "postern-mailbox-alert-" + UUID.randomUUID() + "/";
        try (WebhookReceiver receiver = new WebhookReceiver(204);
                TestBroker broker = TestBroker.start(prefix, ADMIN_KEY, Map.of(
                        "postern.expiry.webhook.url", receiver.url().toString(), "postern.expiry.webhook.secret",
                        receiver.secret), new MutableClock(Instant.now()))) {
            Answer app = broker.api.call("POST", "/v1/apps", ADMIN_KEY, """
                    {"name":"Reauth mail","provider":"generic","client_id":"c","authorize_endpoint":"https://idp.example.test/authorize",
                     "token_endpoint":"https://idp.example.test/token"}""");
            assertThat(app.status()).as(app.body()).isEqualTo(201);
            String appId = app.json().path("id").asString();
            String credential = broker.api.call("POST", "/v1/apps/" + appId + "/credentials", ADMIN_KEY, """
                    {"type":"client_secret","value":"s-%s","expires_at":"%s"}""".formatted(UUID.randomUUID(),
                    Instant.now().plusSeconds(90L * 86_400))).json().path("credential").path("id").asString();
            assertThat(broker.api.call("POST", "/v1/apps/" + appId + "/credentials/" + credential + "/promote",
                    ADMIN_KEY, "{\"force\":true,\"reason\":\"test\"}").status()).isEqualTo(200);
            Instant now = Instant.now();
            Account account = new Account("acc_reauth" + System.nanoTime() % 100_000, appId, ProviderKind.GENERIC,
                    "owner@example.test", Account.Status.REAUTH_REQUIRED, "mail", now, now, now,
                    new Account.AccountError("invalid_grant", "refused", now), null);
            broker.bean(AccountRepository.class)
                .save(account, new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt"), null, SecretStore.NEW);

            broker.bean(ExpiryScanner.class).scan();

            List<Delivery> deliveries = receiver.awaitDeliveries(1);
            assertThat(deliveries).isNotEmpty();
            String reconnectUrl = broker.api.call("GET", "/v1/expiry", ADMIN_KEY, null)
                .json().path("items").findValue("reconnect_url").asString();
            assertThat(reconnectUrl).contains("/connect/lnk_");
            for (Delivery delivery : deliveries) {
                assertThat(delivery.body()).doesNotContain("/connect/").doesNotContain(reconnectUrl.substring(reconnectUrl.lastIndexOf('/') + 1))
                    .contains(broker.publicUrl() + "/admin/#/mailboxes");
            }

            // The metrics count the mailbox per app and state; the per-object expiry gauge holds the app's
            // credential only (one series per mailbox made a 4.7 MB scrape at 30,000 mailboxes).
            String metrics = broker.api.call("GET", "/actuator/prometheus", ADMIN_KEY, null).body();
            assertThat(metrics).contains("postern_account_status{app=\"" + appId + "\",status=\"reauth_required\"} 1.0")
                .contains("postern_credential_expiry_timestamp_seconds{app=\"" + appId + "\",credential=\"" + credential
                        + "\",type=\"client_secret\"}")
                .doesNotContain("type=\"mailbox\"")
                .doesNotContain(account.id());
        }
        catch (java.io.IOException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
