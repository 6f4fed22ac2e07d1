package dev.postern.broker.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestBroker;

/**
 * The filtered accounts list on two replicas of one OpenBao prefix: a filtered page reads only the
 * accounts the in-memory index says match (a prefix that matches nothing reads nothing), an account
 * another replica connected shows after the key directory's refresh and the index's catch-up, and
 * an account another replica revoked never shows under a status it no longer has.
 */
class AccountIndexIntegrationTests {

    private static final String ADMIN_KEY = TestBroker.newAdminKey();

    /** Refreshes and catch-ups are called by the test, not the scheduler (the start-up load still runs). */
    private static final Map<String, Object> MANUAL = Map.of("postern.store.key-refresh", "1h",
            "postern.tokens.keep-alive-initial-delay", "1h");

    private static Account connect(TestBroker broker, String appId, String mailbox) {
        TokenGrant grant = new TokenGrant("access-" + mailbox, Instant.now().plus(Duration.ofHours(1)), "mail",
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "refresh-" + mailbox), mailbox,
                new ProviderIdentity("https://idp.example.test", null, "subject-" + mailbox), Map.of());
        return broker.bean(AccountService.class).connect("test", appId, ProviderKind.GENERIC, mailbox, grant);
    }

    private static Map<String, Double> counts(TestBroker broker) {
        Map<String, Double> counts = new TreeMap<>();
        for (Counter counter : broker.bean(MeterRegistry.class).find(CountingSecretStore.METRIC).counters()) {
            counts.merge(counter.getId().getTag("operation") + " " + counter.getId().getTag("collection"),
                    counter.count(), Double::sum);
        }
        return counts;
    }

    /** The mailboxes of a page and the store requests it made, besides the admin key's client document. */
    private record Page(List<String> mailboxes, Map<String, Double> requests) {
    }

    private static Page page(TestBroker broker, String query) {
        Map<String, Double> before = counts(broker);
        Answer answer = broker.api.get("/v1/accounts?" + query, ADMIN_KEY);
        assertThat(answer.status()).as(answer.body()).isEqualTo(200);
        Map<String, Double> requests = new TreeMap<>();
        counts(broker).forEach((key, value) -> {
            double change = value - before.getOrDefault(key, 0.0);
            if (change > 0 && !key.endsWith(" clients") && !key.endsWith(" audit")) {
                requests.put(key, change);
            }
        });
        List<String> mailboxes = new ArrayList<>();
        for (JsonNode item : answer.json().path("items")) {
            mailboxes.add(item.path("mailbox").asString());
        }
        return new Page(mailboxes, requests);
    }

    private static void await(Supplier<Boolean> condition) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.get()) {
            assertThat(System.nanoTime()).as("waited 30 s").isLessThan(until);
            Thread.sleep(50);
        }
    }

    @Test
    void aFilteredPageReadsOnlyMatchingAccountsAndSeesTheOtherReplicasChanges() throws Exception {
        String prefix = "postern-account-index-" + UUID.randomUUID() + "/";
        try (TestBroker a = TestBroker.start(prefix, ADMIN_KEY, MANUAL);
                TestBroker b = TestBroker.start(prefix, ADMIN_KEY, MANUAL)) {
            // The start-up expiry scan's read of every account completes each replica's index.
            await(() -> a.bean(AccountIndex.class).complete() && b.bean(AccountIndex.class).complete());
            String appId = "app_index" + Long.toString(System.nanoTime(), 32); // connect stores what it is given: no app needed
            for (String mailbox : List.of("alpha-1@example.test", "alpha-2@example.test", "beta-1@example.test")) {
                connect(a, appId, mailbox);
            }

            Page alpha = page(a, "mailbox=ALPHA");
            assertThat(alpha.mailboxes()).containsExactlyInAnyOrder("alpha-1@example.test", "alpha-2@example.test");
            assertThat(alpha.requests()).as("only the two matching accounts are read").isEqualTo(Map.of("get accounts", 2.0));
            assertThat(page(a, "mailbox=nobody").requests()).as("nothing matches: nothing read").isEmpty();
            assertThat(page(a, "status=reauth_required").requests()).isEmpty();
            Page byApp = page(a, "app_id=" + appId + "&status=active&limit=2");
            assertThat(byApp.mailboxes()).hasSize(2);
            assertThat(byApp.requests()).isEqualTo(Map.of("get accounts", 2.0));

            // Another replica connects a mailbox: A learns its id at the key directory's refresh, then reads that one account.
            Account other = connect(b, appId, "alpha-3@example.test");
            assertThat(page(a, "mailbox=alpha").mailboxes()).doesNotContain("alpha-3@example.test");
            a.bean(KeyDirectory.class).refresh();
            assertThat(a.bean(AccountIndexSync.class).sync()).as("only the new account is read").isEqualTo(1);
            assertThat(page(a, "mailbox=alpha").mailboxes()).contains("alpha-3@example.test").hasSize(3);

            // Another replica revokes alpha-3: A's index still says active, but the page checks the document it reads.
            b.bean(AccountService.class).revoke("test", other.id());
            Page active = page(a, "mailbox=alpha&status=active");
            assertThat(active.mailboxes()).containsExactlyInAnyOrder("alpha-1@example.test", "alpha-2@example.test");
            assertThat(active.requests()).isEqualTo(Map.of("get accounts", 3.0));
            // That read updated the index: the revoked account is now found under its status, alone.
            Page revoked = page(a, "status=revoked");
            assertThat(revoked.mailboxes()).containsExactly("alpha-3@example.test");
            assertThat(revoked.requests()).isEqualTo(Map.of("get accounts", 1.0));
            JsonNode unfiltered = a.api.get("/v1/accounts", ADMIN_KEY).json().path("items");
            assertThat(unfiltered).hasSize(4);
        }
    }
}
