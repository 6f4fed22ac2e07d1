package dev.postern.broker.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.postern.broker.expiry.ExpiryScanner;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

/**
 * 10,000 mailboxes on a real OpenBao: no request reads a collection. The accounts are seeded
 * through {@link AccountService#connect}, the connect flow's own write (index entry, account
 * document, audit event), then the store's request counters ({@link CountingSecretStore}) are read
 * around single requests: a token by mailbox (first ask) and by id, and the first page of every
 * list, each costs a constant number of store reads or one page of them, and no
 * LIST on any request (a list's keys come from the store's key directory). Fails when a hot path
 * starts reading whole collections again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.MethodName.class)
// Its own broker (own store prefix): no background keep-alive pass over every account mid-measurement.
@TestPropertySource(properties = "postern.tokens.keep-alive-initial-delay=1h")
class ScaleIntegrationTests extends ApiIntegrationTest {

    static final int MAILBOXES = 10_000;

    static final int SEEDERS = 32;

    @Autowired
    AccountService accounts;

    @Autowired
    MailboxIndexCheck indexCheck;

    @Autowired
    ExpiryScanner scanner;

    @Autowired
    MeterRegistry meters;

    @Autowired
    SecretStore store;

    @Autowired
    AccountIndex accountIndex;

    @Autowired
    AccountIndexSync indexSync;

    private final List<String> appIds = new ArrayList<>();

    private final List<String> accountIds = new ArrayList<>();

    private String clientKey;

    @BeforeAll
    void seed() throws Exception {
        appIds.add(registerIdpApp("Scale A"));
        appIds.add(registerIdpApp("Scale B"));
        clientKey = createClientKey("client", "[\"" + appIds.get(0) + "\",\"" + appIds.get(1) + "\"]");
        // The key's first use reads its client document; measured requests find it cached.
        post("/v1/token", clientKey, "{\"mailbox\":\"warm-up@example.test\"}");
        Instant expires = Instant.now().plus(Duration.ofHours(2));
        AtomicInteger next = new AtomicInteger();
        long started = System.nanoTime();
        List<Future<List<String>>> seeders = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < SEEDERS; t++) {
                seeders.add(threads.submit(() -> {
                    List<String> ids = new ArrayList<>();
                    for (int i; (i = next.getAndIncrement()) < MAILBOXES;) {
                        String mailbox = mailbox(i);
                        TokenGrant grant = new TokenGrant("seed-access-" + i, expires, "openid email mail offline_access",
                                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "seed-refresh-" + i), mailbox,
                                new ProviderIdentity("https://idp.example.test", null, "subject-" + i), Map.of());
                        ids.add(accounts.connect("test-seed", appIds.get(i % 2), ProviderKind.GENERIC, mailbox, grant).id());
                    }
                    return ids;
                }));
            }
            for (Future<List<String>> seeder : seeders) {
                accountIds.addAll(seeder.get());
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("SCALE seeded %d mailboxes with %d threads in %.1f s: %.0f mailboxes/s%n", MAILBOXES, SEEDERS,
                seconds, MAILBOXES / seconds);
    }

    private static String mailbox(int i) {
        return "scale-%05d@example.test".formatted(i);
    }

    /** Store requests by operation during {@code action}, every collection summed: {@code get}, {@code list}, {@code write}. */
    private <T> Map<String, Double> counted(String what, Supplier<T> action) {
        Map<String, Double> before = counts();
        long started = System.nanoTime();
        action.get();
        double millis = (System.nanoTime() - started) / 1e6;
        Map<String, Double> after = counts();
        Map<String, Double> delta = new TreeMap<>();
        after.forEach((key, value) -> {
            double change = value - before.getOrDefault(key, 0.0);
            if (change > 0) {
                delta.put(key, change);
            }
        });
        System.out.printf("SCALE %s: %.1f ms, store requests %s%n", what, millis, delta);
        return delta;
    }

    private Map<String, Double> counts() {
        Map<String, Double> counts = new TreeMap<>();
        for (Counter counter : meters.find(CountingSecretStore.METRIC).counters()) {
            String key = counter.getId().getTag("operation") + " " + counter.getId().getTag("collection");
            counts.merge(key, counter.count(), Double::sum);
        }
        return counts;
    }

    private static double total(Map<String, Double> counts, String operation) {
        return counts.entrySet().stream().filter(e -> e.getKey().startsWith(operation + " ")).mapToDouble(Map.Entry::getValue).sum();
    }

    @Test
    void aTokenByMailboxAtFirstAskReadsTheIndexAndTheAccountNotTheCollection() {
        for (int i : new int[] { 4_321, 9_998, 17 }) {
            Map<String, Double> cost = counted("token by mailbox (first ask) #" + i,
                    () -> post("/v1/token", clientKey, "{\"mailbox\":\"" + mailbox(i).toUpperCase() + "\"}"));
            Answer again = post("/v1/token", clientKey, "{\"mailbox\":\"" + mailbox(i) + "\"}");
            assertThat(again.status()).as(again.body()).isEqualTo(200);
            assertThat(again.text("access_token")).isEqualTo("seed-access-" + i);
            assertThat(total(cost, "list")).as("collection reads %s", cost).isZero();
            assertThat(cost.getOrDefault("get indexes", 0.0)).as("index reads %s", cost).isEqualTo(1.0);
            // The account once: the lookup reads it, and the token path finds the access token stored
            // with it in the one account cache. Constant whatever the number of mailboxes.
            assertThat(cost.getOrDefault("get accounts", 0.0)).as("account reads %s", cost).isEqualTo(1.0);
        }
    }

    @Test
    void aTokenByIdReadsNoCollection() {
        String id = accountIds.get(1_234);
        Map<String, Double> cost = counted("token by id (first ask)",
                () -> post("/v1/accounts/" + id + "/token", clientKey, null));
        assertThat(post("/v1/accounts/" + id + "/token", clientKey, null).status()).isEqualTo(200);
        assertThat(total(cost, "list")).as("collection reads %s", cost).isZero();
        assertThat(cost.getOrDefault("get accounts", 0.0)).as("account reads %s", cost).isEqualTo(1.0);
    }

    @Test
    void aMailboxNeverConnectedIsNotFoundFromTheIndexAlone() {
        Map<String, Double> cost = counted("token for an unknown mailbox",
                () -> post("/v1/token", clientKey, "{\"mailbox\":\"nobody-here@example.test\"}"));
        assertThat(post("/v1/token", clientKey, "{\"mailbox\":\"nobody-here@example.test\"}").status()).isEqualTo(404);
        // One index read; besides it at most the caller's client document (its key cache may have expired).
        assertThat(cost).as("one index read, no account read").containsEntry("get indexes", 1.0).doesNotContainKey("get accounts");
        assertThat(total(cost, "get") - cost.getOrDefault("get clients", 0.0)).isEqualTo(1.0);
        assertThat(total(cost, "list")).isZero();
    }

    @Test
    void theFirstPageOfEveryListCostsOnePageOfReadsAndNoList() {
        if (!accountIndex.complete()) {
            indexSync.sync(); // its first scheduled run may not have come yet: every account read once
        }
        Map<String, Double> accountsPage = counted("GET /v1/accounts (first page of 100)", () -> {
            Answer page = get("/v1/accounts", ADMIN_KEY);
            assertThat(page.json().path("items")).hasSize(100);
            assertThat(page.json().path("next_cursor").asString()).isNotBlank();
            return page;
        });
        // The keys come from the key directory (loaded at start-up, kept current by the seeding's writes).
        assertThat(accountsPage).containsEntry("get accounts", 100.0);
        assertThat(total(accountsPage, "list")).as("no LIST on the request path %s", accountsPage).isZero();

        Map<String, Double> filtered = counted("GET /v1/accounts?app_id=…&limit=50", () -> {
            Answer page = get("/v1/accounts?limit=50&app_id=" + appIds.get(1), ADMIN_KEY);
            assertThat(page.json().path("items")).hasSize(50);
            page.json().path("items").forEach(a -> assertThat(a.path("app_id").asString()).isEqualTo(appIds.get(1)));
            return page;
        });
        // The in-memory account index names the matching accounts: only they are read.
        assertThat(filtered).as("reads %s", filtered).containsEntry("get accounts", 50.0);
        assertThat(total(filtered, "list")).isZero();

        Map<String, Double> prefix = counted("GET /v1/accounts?status=active&mailbox=scale-0999", () -> {
            Answer page = get("/v1/accounts?status=active&mailbox=SCALE-0999", ADMIN_KEY);
            assertThat(page.json().path("items")).hasSize(10); // scale-09990 to scale-09999
            return page;
        });
        assertThat(prefix).as("reads %s", prefix).containsEntry("get accounts", 10.0);
        Map<String, Double> none = counted("GET /v1/accounts?status=reauth_required (none)", () -> {
            Answer page = get("/v1/accounts?status=reauth_required", ADMIN_KEY);
            assertThat(page.json().path("items")).isEmpty();
            return page;
        });
        assertThat(none).as("nothing matches, nothing read").doesNotContainKey("get accounts");

        for (String list : List.of("/v1/apps", "/v1/clients")) {
            Map<String, Double> cost = counted("GET " + list, () -> get(list, ADMIN_KEY));
            assertThat(total(cost, "list")).as(list).isZero();
            assertThat(total(cost, "get")).as(list).isLessThanOrEqualTo(100);
        }

        Map<String, Double> audit = counted("GET /v1/audit (first page of 100)", () -> {
            Answer page = get("/v1/audit", ADMIN_KEY);
            assertThat(page.json().path("items")).hasSize(100);
            return page;
        });
        // The trail lies in hour buckets: a page LISTs the days, the newest day and the hours it reads
        // into (two days and hours when the connects crossed midnight), never every chunk.
        assertThat(audit.getOrDefault("list audit", 0.0)).isBetween(3.0, 5.0);
        // 10,000 connects wrote a hundred chunks or more (one per flush, up to 100 events each); a page reads
        // the newest ones until it holds 100 events: each chunk read gives the page at least one event.
        int chunks = chunksBelow(SecretPath.of(StoreCollection.AUDIT));
        System.out.printf("SCALE audit chunks in the store: %d%n", chunks);
        assertThat(audit.getOrDefault("get audit", 0.0)).isLessThanOrEqualTo(101).isLessThan(chunks / 2.0);

        Map<String, Double> scan = counted("one full expiry scan", scanner::scan);
        assertThat(scan.getOrDefault("get accounts", 0.0)).isGreaterThanOrEqualTo(MAILBOXES);
        // No app here has an alert document or anything inside a threshold: nothing to fire or resolve, nothing read.
        assertThat(scan.getOrDefault("get alerts", 0.0)).as("alert states read by the scan %s", scan).isZero();
        java.util.Set<String> pageApps = new java.util.TreeSet<>();
        Map<String, Double> expiry = counted("GET /v1/expiry (first page of 100, from the last scan)", () -> {
            Answer page = get("/v1/expiry", ADMIN_KEY);
            assertThat(page.json().path("items")).hasSize(100);
            assertThat(page.json().path("counts").path("ok").asInt()).isGreaterThanOrEqualTo(MAILBOXES);
            page.json().path("items").forEach(item -> pageApps.add(item.path("app_id").asString()));
            return page;
        });
        assertThat(total(expiry, "list")).isZero();
        // This broker alerted in its scan, so it knows every app's alert state: the failed-notifications
        // document is the page's only read (the admin key's client document is read again when its cache
        // entry ran out), whatever the number of apps on the page.
        assertThat(scanner.lastScan().orElseThrow().alerted()).isTrue();
        assertThat(pageApps).hasSizeGreaterThan(1);
        assertThat(total(expiry, "get") - expiry.getOrDefault("get clients", 0.0)).as("reads %s", expiry)
            .isEqualTo(1)
            .isEqualTo(expiry.getOrDefault("get alerts", 0.0));
    }

    private int chunksBelow(SecretPath folder) {
        SecretStore.Listing listing = store.listing(folder);
        int chunks = listing.documents().size();
        for (String inner : listing.folders()) {
            chunks += chunksBelow(folder.child(inner));
        }
        return chunks;
    }

    @Autowired
    MailboxIndex index;

    @Test
    void anIndexLookupIsOneReadWhateverTheNumberOfMailboxes() {
        java.util.Random random = new java.util.Random(15);
        long[] micros = new long[500];
        for (int i = 0; i < micros.length; i++) {
            String address = mailbox(random.nextInt(MAILBOXES));
            long started = System.nanoTime();
            assertThat(index.find(address).accounts()).hasSize(1);
            micros[i] = (System.nanoTime() - started) / 1_000;
        }
        java.util.Arrays.sort(micros);
        System.out.printf("SCALE index lookup (one store read) over %d mailboxes: p50 %.2f ms, p99 %.2f ms%n", MAILBOXES,
                micros[micros.length / 2] / 1e3, micros[micros.length * 99 / 100] / 1e3);
    }

    @Test
    void readingEveryAccountIsWhatAnInMemoryIndexWouldCostAtEachStart() {
        Map<String, Double> cost = counted("read every account (an in-memory index's load at start-up)", accounts::all);
        assertThat(cost).containsEntry("list accounts", 1.0);
        assertThat(cost.get("get accounts")).isGreaterThanOrEqualTo(MAILBOXES);
    }

    @Test
    void theIndexCheckFindsTheSeededIndexComplete() {
        long started = System.nanoTime();
        int repaired = indexCheck.check();
        System.out.printf("SCALE index check over %d mailboxes (every account read, 32 at a time, and every index entry): %.1f s%n",
                MAILBOXES, (System.nanoTime() - started) / 1e9);
        assertThat(repaired).isZero();
    }
}
