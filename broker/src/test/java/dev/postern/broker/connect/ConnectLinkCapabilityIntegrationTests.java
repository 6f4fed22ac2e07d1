package dev.postern.broker.connect;

import java.net.URI;
import java.time.Instant;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connect links are bearer capabilities: the store keeps them under a hash of their secret, the
 * audit trail and logs name them by a short hash, and only an admin is shown a reconnect URL.
 */
@ExtendWith(OutputCaptureExtension.class)
class ConnectLinkCapabilityIntegrationTests extends ApiIntegrationTest {

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Autowired
    SecretStore store;

    @Autowired
    AccountRepository accounts;

    @Autowired
    dev.postern.broker.expiry.ExpiryScanner scanner;

    private static String secretOf(URI link) {
        return link.getPath().substring("/connect/".length());
    }

    @Test
    void aLinkIsStoredUnderTheHashOfItsSecretAndAuditedAndLoggedByAShortHash(CapturedOutput output) {
        String app = registerIdpApp("Link capability");
        String mailbox = "cap-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        Answer created = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        URI link = URI.create(created.text("url"));
        String secret = secretOf(link);
        String documentId = ConnectLinkRepository.documentId(secret);

        assertThat(store.list(SecretPath.of(StoreCollection.CONNECT_LINKS))).contains(documentId).doesNotContain(secret);
        assertThat(store.read(SecretPath.of(StoreCollection.CONNECT_LINKS, secret))).isEmpty();
        assertThat(created.text("id")).isNotEqualTo(secret).hasSize(16);
        assertThat(documentId).startsWith(created.text("id"));

        // The owner's sign-in: the link's audit events (also written as log lines) name it.
        idp.nextTokenFor(mailbox, java.util.List.of(TestIdentityProvider.MAIL_SCOPE), java.time.Duration.ofHours(1));
        assertThat(new OwnerBrowser(idp).open(link).body()).contains("Connected as " + mailbox);

        Answer audit = get("/v1/audit?limit=500", ADMIN_KEY);
        assertThat(audit.body()).contains(created.text("id")).doesNotContain(secret).doesNotContain(documentId);
        assertThat(output.getAll()).contains("connect-link:" + created.text("id")).doesNotContain(secret);
    }

    @Test
    void aLinkOpenedAgainWhileItsSignInCompletesIsUsedAndConnectsOneMailboxOnly() throws Exception {
        String app = registerIdpApp("Link race");
        String owner = "race-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String other = "race-other-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        URI link = URI.create(post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}").text("url"));
        java.util.concurrent.CountDownLatch exchanging = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        // The owner's code exchange is held at the provider until the second opening of the link is done.
        idp.nextTokenFor(owner, java.util.List.of(TestIdentityProvider.MAIL_SCOPE), java.time.Duration.ofHours(1), () -> {
            exchanging.countDown();
            try {
                release.await(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
        java.util.concurrent.CompletableFuture<OwnerBrowser.Page> ownerSignIn = java.util.concurrent.CompletableFuture
            .supplyAsync(() -> new OwnerBrowser(idp).open(link));
        assertThat(exchanging.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the owner's code exchange began").isTrue();

        OwnerBrowser second = new OwnerBrowser(idp);
        OwnerBrowser.Page opened;
        try {
            opened = second.get(link);
        }
        finally {
            release.countDown();
        }
        OwnerBrowser.Page ownerPage = ownerSignIn.get(30, java.util.concurrent.TimeUnit.SECONDS);
        // The second browser tries to connect another mailbox with the same link (a token is queued at the
        // provider only when the link still opens: one left unused would go to another test's request).
        OwnerBrowser.Page secondSignIn = second.get(link);
        if (secondSignIn.status() / 100 == 3) {
            idp.nextTokenFor(other, java.util.List.of(TestIdentityProvider.MAIL_SCOPE), java.time.Duration.ofHours(1));
            secondSignIn = second.open(link);
        }
        assertThat(listAll("/v1/accounts?app_id=" + app, ADMIN_KEY)).extracting(a -> a.path("mailbox").asString())
            .as("mailboxes the one-time link connected; the second sign-in answered " + secondSignIn.body())
            .containsExactly(owner);
        assertThat(ownerPage.body()).as("the owner's sign-in").contains("Connected as " + owner);
        assertThat(opened.status()).as("the link opened again during the exchange: " + opened.body()).isEqualTo(400);
        assertThat(opened.body()).contains("already used");
        // Used is used: opening it now is refused too.
        assertThat(new OwnerBrowser(idp).get(link).body()).contains("already used");
    }

    @Test
    void aMonitorSeesThatAMailboxNeedsItsOwnerButOnlyAnAdminGetsTheReconnectUrl() {
        String app = registerIdpApp("Reconnect visibility");
        String mailbox = "reauth-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        idp.nextTokenFor(mailbox, java.util.List.of(TestIdentityProvider.MAIL_SCOPE), java.time.Duration.ofHours(1));
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        assertThat(new OwnerBrowser(idp).open(URI.create(link.text("url"))).body()).contains("Connected as " + mailbox);
        AccountRepository.StoredAccount stored = accounts.findAll()
            .stream()
            .filter(a -> a.mailbox().equals(mailbox))
            .findFirst()
            .flatMap(a -> accounts.find(a.id()))
            .orElseThrow();
        accounts.save(stored.account().withStatus(Account.Status.REAUTH_REQUIRED,
                new Account.AccountError("invalid_grant", "test", Instant.now())), stored.state(), null, stored.version());
        String monitorKey = createClientKey("monitor", "[]");

        scanner.scan(); // /v1/expiry shows the last scan
        JsonNode asMonitor = item(listAll("/v1/expiry", monitorKey), stored.account().id());
        JsonNode asAdmin = item(listAll("/v1/expiry", ADMIN_KEY), stored.account().id());

        assertThat(asMonitor.path("state").asString()).isEqualTo("reauth_required");
        assertThat(asMonitor.path("reconnect_url").isMissingNode() || asMonitor.path("reconnect_url").isNull()).isTrue();
        assertThat(asAdmin.path("state").asString()).isEqualTo("reauth_required");
        assertThat(asAdmin.path("reconnect_url").asString()).startsWith("http://127.0.0.1:" + port + "/connect/lnk_");
        assertThat(get("/v1/expiry", monitorKey).body()).doesNotContain("/connect/");
    }

    private static JsonNode item(java.util.List<JsonNode> expiry, String accountId) {
        for (JsonNode item : expiry) {
            if (item.path("id").asString().equals(accountId)) {
                return item;
            }
        }
        throw new AssertionError("no expiry item for " + accountId + " in " + expiry);
    }
}
