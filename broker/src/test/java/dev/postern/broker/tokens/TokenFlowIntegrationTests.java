package dev.postern.broker.tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationEventPublisher;

import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connect a mailbox through a generic OAuth2 app at a real identity provider (mock-oauth2-server
 * over HTTPS, trusted through an SSL bundle), then get tokens: cache, single flight, rotation
 * stored before the token is handed out, XOAUTH2, reauth and authorization rules.
 */
@ExtendWith(OutputCaptureExtension.class)
class TokenFlowIntegrationTests extends ApiIntegrationTest {

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Autowired
    AccountRepository accounts;

    @Autowired
    ApplicationEventPublisher events;

    @Autowired
    TokenSchedules schedules;

    @Autowired
    MeterRegistry meters;

    @Autowired
    dev.postern.broker.expiry.ExpiryScanner scanner;

    private String app;

    private String clientKey;

    @BeforeEach
    void genericAppWithAClient() {
        app = registerIdpApp("Test IdP");
        clientKey = createClientKey("client", "[\"" + app + "\"]");
    }

    /** Connects {@code mailbox} through a connect link, as its owner would; returns the account id. */
    private String connect(String mailbox) {
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        assertThat(link.status()).as(link.body()).isEqualTo(201);
        idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        OwnerBrowser.Page page = new OwnerBrowser(idp).open(URI.create(link.text("url")));
        assertThat(page.status()).as(page.body()).isEqualTo(200);
        assertThat(page.body()).contains("Connected as " + mailbox);
        return accounts.findAll().stream().filter(a -> a.mailbox().equals(mailbox)).findFirst().orElseThrow().id();
    }

    /**
     * Makes the account's token a miss everywhere (expired in the store, gone from memory) and
     * forgets the provider's recorded requests; returns the account as it was.
     */
    private AccountRepository.StoredAccount expireTokenEverywhere(String account) {
        AccountRepository.StoredAccount before = accounts.find(account).orElseThrow();
        accounts.save(before.account(), before.state(),
                new AccountRepository.StoredAccessToken("expired", Instant.now().minusSeconds(1), "mail"), before.version());
        events.publishEvent(new AccountChangedEvent(before.account(), AccountChangedEvent.Change.CONNECTED));
        idp.drainRecordedRequests();
        return before;
    }

    private Answer token(String mailbox, int minTtl) {
        return post("/v1/token", clientKey, "{\"mailbox\":\"%s\",\"min_ttl_seconds\":%d}".formatted(mailbox, minTtl));
    }

    @Test
    void connectThenTokenWithXoauth2ThenServedFromCache(CapturedOutput output) {
        String mailbox = "alice-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);

        Answer first = token(mailbox, 300);
        Answer second = post("/v1/accounts/" + account + "/token", clientKey, "{\"min_ttl_seconds\":300}");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.text("token_type")).isEqualTo("Bearer");
        assertThat(first.text("username")).isEqualTo(mailbox);
        assertThat(first.json().path("expires_in").asLong()).isGreaterThan(300);
        String accessToken = first.text("access_token");
        assertThat(TestIdentityProvider.claims(accessToken)).containsEntry("email", mailbox);
        String xoauth2 = new String(Base64.getDecoder().decode(first.text("xoauth2")), StandardCharsets.UTF_8);
        assertThat(xoauth2).isEqualTo("user=" + mailbox + "\u0001auth=Bearer " + accessToken + "\u0001\u0001");
        assertThat(first.response().headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(second.text("access_token")).isEqualTo(accessToken);
        String refreshToken = accounts.find(account).orElseThrow().state().value();
        assertThat(output.getAll()).as("no token in any log line").doesNotContain(accessToken).doesNotContain(refreshToken);
    }

    @Test
    void cachedIssuancesAreAuditedAsCountsThatAddUpToTheRequests() throws Exception {
        String mailbox = "counted-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        assertThat(token(mailbox, 300).status()).isEqualTo(200); // the refresh that fills the cache

        int requests = 200;
        List<CompletableFuture<Answer>> answers = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            answers.add(CompletableFuture.supplyAsync(() -> token(mailbox, 300)));
        }
        for (CompletableFuture<Answer> answer : answers) {
            assertThat(answer.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
        }

        // Reading the trail flushes the counts; a scheduled flush in between may have split them.
        Answer trail = get("/v1/audit?action=token.issue&object_id=" + account + "&limit=500", ADMIN_KEY);
        assertThat(trail.status()).as(trail.body()).isEqualTo(200);
        long refreshes = 0, cached = 0, cacheEvents = 0;
        for (var event : trail.json().path("items")) {
            assertThat(event.path("outcome").asString()).isEqualTo("success");
            switch (event.path("details").path("source").asString()) {
                case "refresh" -> refreshes++;
                case "cache" -> {
                    cacheEvents++;
                    cached += Long.parseLong(event.path("details").path("count").asString());
                    assertThat(Instant.parse(event.path("details").path("first_at").asString()))
                        .isBeforeOrEqualTo(Instant.parse(event.path("at").asString()));
                }
                default -> throw new AssertionError("unexpected event " + event);
            }
        }
        assertThat(refreshes).isEqualTo(1);
        assertThat(cached).as("every cached issuance counted once").isEqualTo(requests);
        assertThat(cacheEvents).as("counted, not one event per request").isLessThan(requests / 4);
    }

    @Test
    void thousandConcurrentMissesCauseOneRefreshAndTheRotatedTokenIsStoredFirst() throws Exception {
        String mailbox = "bob-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        AccountRepository.StoredAccount before = expireTokenEverywhere(account);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/accounts/" + account + "/token"))
                .header("Authorization", "Bearer " + clientKey)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString("{\"min_ttl_seconds\":300}"))
                .build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);

        List<String> tokens = calls.stream().map(CompletableFuture::join).map(response -> {
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            return JSON.readTree(response.body()).path("access_token").asString();
        }).distinct().toList();
        long refreshes = idp.drainRecordedRequests().stream()
            .filter(request -> request.getBody().clone().readUtf8().contains("grant_type=refresh_token"))
            .count();
        assertThat(refreshes).isEqualTo(1);
        assertThat(tokens).hasSize(1);
        AccountRepository.StoredAccount after = accounts.find(account).orElseThrow();
        assertThat(after.state().value()).isNotEqualTo(before.state().value());
        assertThat(after.accessToken().value()).isEqualTo(tokens.getFirst());
        assertThat(after.account().lastRefreshAt()).isAfter(before.account().lastRefreshAt());
        // One refresh in the trail; the other 999 joined it or came after it into the cache, and are counted.
        Answer trail = get("/v1/audit?action=token.issue&object_id=" + account + "&limit=500", ADMIN_KEY);
        assertThat(trail.status()).as(trail.body()).isEqualTo(200);
        Map<String, Long> issued = new TreeMap<>();
        for (var event : trail.json().path("items")) {
            long count = event.path("details").has("count") ? Long.parseLong(event.path("details").path("count").asString()) : 1;
            issued.merge(event.path("details").path("source").asString(), count, Long::sum);
        }
        assertThat(issued.get("refresh")).isEqualTo(1);
        assertThat(issued.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1000);
        assertThat(trail.json().path("items").size()).as("counted, not one event per request").isLessThan(250);
        System.out.println("[single flight] 1000 concurrent misses -> " + refreshes + " refresh at the identity provider; issued " + issued);
    }

    @Test
    void eachSequentialMissRefreshesAgainWhenTheProviderGivesLessLifetimeThanAsked() {
        String mailbox = "dave-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        expireTokenEverywhere(account);

        // Each token lives 60 s and each request asks for 300: none may be answered from the refresh
        // before it, even one that has just finished.
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofSeconds(60));
            Answer answer = post("/v1/accounts/" + account + "/token", clientKey, "{\"min_ttl_seconds\":300}");
            assertThat(answer.status()).as(answer.body()).isEqualTo(200);
            assertThat(answer.json().path("expires_in").asLong()).isBetween(1L, 60L);
            tokens.add(answer.text("access_token"));
        }
        long refreshes = idp.drainRecordedRequests().stream()
            .filter(request -> request.getBody().clone().readUtf8().contains("grant_type=refresh_token"))
            .count();
        assertThat(refreshes).isEqualTo(5);
        assertThat(tokens).doesNotHaveDuplicates();
    }

    /**
     * Issue 14's bound on a miss: when this replica wrote the account last, a miss is two store
     * writes (the lease, taken with CAS in the account document, and the save that clears it) and
     * no read. Each token lives 60 s and each request asks for 300, so each is a miss.
     */
    @Test
    void aMissAfterThisReplicasOwnRefreshIsTwoWritesAndNoRead() {
        String mailbox = "erin-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        expireTokenEverywhere(account);
        for (int i = 0; i < 3; i++) {
            idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofSeconds(60));
            Map<String, Double> before = storeRequests();
            Answer answer = post("/v1/accounts/" + account + "/token", clientKey, "{\"min_ttl_seconds\":300}");
            Map<String, Double> cost = new TreeMap<>();
            storeRequests().forEach((key, count) -> {
                // Audit chunks are written by AuditLog's background flush (every second), off the
                // request's path; one may land inside any request's window.
                if (count > before.getOrDefault(key, 0.0) && !key.endsWith(" audit")) {
                    cost.put(key, count - before.getOrDefault(key, 0.0));
                }
            });
            System.out.printf("[miss cost] miss %d: store requests %s%n", i + 1, cost);
            assertThat(answer.status()).as(answer.body()).isEqualTo(200);
            if (i > 0) {
                // The first miss reads what the test wrote behind this replica's back; every later one follows its own save.
                assertThat(cost).as("store requests of miss %d", i + 1).isEqualTo(Map.of("write accounts", 2.0));
            }
        }
    }

    private Map<String, Double> storeRequests() {
        Map<String, Double> counts = new TreeMap<>();
        for (Counter counter : meters.find(CountingSecretStore.METRIC).counters()) {
            counts.merge(counter.getId().getTag("operation") + " " + counter.getId().getTag("collection"), counter.count(),
                    Double::sum);
        }
        return counts;
    }

    @Test
    void refusedRefreshTokenTurnsTheMailboxToReauthRequired() {
        String mailbox = "carol-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        AccountRepository.StoredAccount stored = accounts.find(account).orElseThrow();
        accounts.save(stored.account(), new dev.postern.broker.providers.MailboxState(
                dev.postern.broker.providers.MailboxState.Kind.REFRESH_TOKEN, "refresh-token-the-idp-never-issued"),
                new AccountRepository.StoredAccessToken("expired", Instant.now().minusSeconds(1), "mail"), stored.version());
        events.publishEvent(new AccountChangedEvent(stored.account(), AccountChangedEvent.Change.CONNECTED));

        Answer refused = token(mailbox, 300);

        assertThat(refused.status()).as(refused.body()).isEqualTo(409);
        assertThat(refused.text("type")).endsWith("/reauth-required");
        Answer listed = get("/v1/accounts/" + account, ADMIN_KEY);
        assertThat(listed.text("status")).isEqualTo("reauth_required");
        assertThat(listed.json().path("last_error").path("code").asString()).isEqualTo("invalid_grant");
        assertThat(token(mailbox, 300).status()).isEqualTo(409);
    }

    @Test
    void keepAliveRefreshesAMailboxUnusedForLongerThanTheLimit() throws Exception {
        String mailbox = "kate-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        AccountRepository.StoredAccount stored = accounts.find(account).orElseThrow();
        Instant longAgo = Instant.now().minus(40, ChronoUnit.DAYS);
        var old = stored.account();
        accounts.save(new dev.postern.broker.accounts.Account(old.id(), old.appId(), old.provider(), old.mailbox(),
                old.status(), old.scope(), old.createdAt(), longAgo, longAgo, null, old.identity()), stored.state(), stored.accessToken(),
                stored.version());

        schedules.keepAlive();

        Instant deadline = Instant.now().plusSeconds(20);
        while (accounts.find(account).orElseThrow().account().lastRefreshAt().isBefore(longAgo.plusSeconds(1))
                && Instant.now().isBefore(deadline)) {
            Thread.sleep(100);
        }
        AccountRepository.StoredAccount kept = accounts.find(account).orElseThrow();
        assertThat(kept.account().lastRefreshAt()).isAfter(Instant.now().minusSeconds(60));
        assertThat(kept.state().value()).isNotEqualTo(stored.state().value());
    }

    @Test
    void aMailboxThatNeedsItsOwnerAppearsInExpiryWithAFreshConnectLink() {
        String mailbox = "liam-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        AccountRepository.StoredAccount stored = accounts.find(account).orElseThrow();
        accounts.save(stored.account().withStatus(dev.postern.broker.accounts.Account.Status.REAUTH_REQUIRED, null),
                stored.state(), stored.accessToken(), stored.version());

        scanner.scan(); // /v1/expiry pages the last scan
        String expiry = listAll("/v1/expiry", ADMIN_KEY).toString();

        assertThat(expiry).contains(account).contains(mailbox);
        assertThat(expiry).contains("http://127.0.0.1:" + port + "/connect/lnk_");
    }

    @Test
    void clientsGetTokensOnlyForAllowedMailboxesAndRevokedOnesAreRefused() {
        String mailbox = "dave-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String account = connect(mailbox);
        String otherClient = createClientKey("client", "[\"app_someotherapp\"]");

        Answer notAllowed = post("/v1/accounts/" + account + "/token", otherClient, "{}");
        Answer notFoundByMailbox = post("/v1/token", otherClient, "{\"mailbox\":\"" + mailbox + "\"}");
        assertThat(notAllowed.status()).isEqualTo(403);
        assertThat(notFoundByMailbox.status()).isEqualTo(404);

        assertThat(call("DELETE", "/v1/accounts/" + account, ADMIN_KEY, null).status()).isEqualTo(200);
        Answer revoked = post("/v1/accounts/" + account + "/token", clientKey, "{}");
        assertThat(revoked.status()).isEqualTo(409);
        assertThat(revoked.text("type")).endsWith("/account-revoked");
        assertThat(accounts.find(account).orElseThrow().state()).isNull();
    }

    @Test
    void connectingTheSameMailboxAgainUpdatesItsAccount() {
        String mailbox = "erin-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
        String first = connect(mailbox);
        String second = connect(mailbox);

        assertThat(second).isEqualTo(first);
        assertThat(accounts.findAll().stream().filter(a -> a.mailbox().equals(mailbox))).hasSize(1);
    }

}
