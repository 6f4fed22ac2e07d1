package dev.postern.broker.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

/** The paging contract every list keeps: limit bounds, opaque checked cursors, stable order without overlap, filters. */
class ListPagingIntegrationTests extends ApiIntegrationTest {

    private static final List<String> LISTS = List.of("/v1/accounts", "/v1/apps", "/v1/clients", "/v1/audit", "/v1/expiry");

    @Autowired
    AccountService accounts;

    private void assertInvalid(String path, String field) {
        Answer answer = get(path, ADMIN_KEY);
        assertThat(answer.status()).as(path + " -> " + answer.body()).isEqualTo(400);
        assertThat(answer.response().headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(answer.json().path("errors").has(field)).as(answer.body()).isTrue();
    }

    @Test
    void aLimitOutsideOneTo500IsA400OnEveryList() {
        for (String list : LISTS) {
            assertInvalid(list + "?limit=0", "limit");
            assertInvalid(list + "?limit=501", "limit");
            assertThat(get(list + "?limit=500", ADMIN_KEY).status()).as(list).isEqualTo(200);
            assertThat(get(list + "?limit=abc", ADMIN_KEY).status()).as(list).isEqualTo(400);
        }
    }

    @Test
    void anEditedOrForeignCursorIsA400() {
        for (int i = 0; i < 3; i++) {
            createMicrosoftApp("Cursor " + i);
        }
        Answer first = get("/v1/apps?limit=1", ADMIN_KEY);
        String cursor = first.text("next_cursor");
        assertThat(cursor).isNotBlank();
        assertThat(get("/v1/apps?limit=1&cursor=" + cursor, ADMIN_KEY).status()).isEqualTo(200);

        char last = cursor.charAt(cursor.length() - 2);
        String edited = cursor.substring(0, cursor.length() - 2) + (last == 'A' ? 'B' : 'A') + cursor.charAt(cursor.length() - 1);
        assertInvalid("/v1/apps?cursor=" + edited, "cursor");
        assertInvalid("/v1/apps?cursor=" + cursor.substring(0, cursor.length() - 3), "cursor");
        assertInvalid("/v1/apps?cursor=not-base64!", "cursor");
        assertInvalid("/v1/accounts?cursor=" + cursor, "cursor"); // an apps cursor
        assertInvalid("/v1/clients?cursor=" + cursor, "cursor");
        assertInvalid("/v1/audit?cursor=" + cursor, "cursor");
        assertInvalid("/v1/expiry?cursor=" + cursor, "cursor");
    }

    @Test
    void walkingAListVisitsEveryItemOnceInIdOrder() {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(createMicrosoftApp("Walk " + i));
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Answer page = get("/v1/apps?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), ADMIN_KEY);
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.json().path("items").size()).isLessThanOrEqualTo(2);
            page.json().path("items").forEach(app -> seen.add(app.path("id").asString()));
            cursor = page.json().path("next_cursor").asString(null);
            pages++;
        }
        while (cursor != null && pages < 1000);
        assertThat(seen).doesNotHaveDuplicates().containsAll(created).isSorted();
    }

    @Test
    void accountsFilterByAppStatusAndMailboxPrefix() {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String appA = createMicrosoftApp("Filter A");
        String appB = createMicrosoftApp("Filter B");
        Account a1 = connect(appA, "flt-" + tag + "-anna@example.test");
        Account a2 = connect(appA, "flt-" + tag + "-bob@example.test");
        Account b1 = connect(appB, "flt-" + tag + "-anna@example.test");
        accounts.revoke("test", a2.id());

        assertThat(ids("/v1/accounts?app_id=" + appA)).containsExactlyInAnyOrder(a1.id(), a2.id());
        assertThat(ids("/v1/accounts?app_id=" + appA + "&status=revoked")).containsExactly(a2.id());
        assertThat(ids("/v1/accounts?app_id=" + appA + "&status=ACTIVE")).containsExactly(a1.id());
        assertThat(ids("/v1/accounts?mailbox=FLT-" + tag + "-anna")).containsExactlyInAnyOrder(a1.id(), b1.id());
        assertThat(ids("/v1/accounts?mailbox=" + tag)).isEmpty(); // a prefix, not a substring
        assertInvalid("/v1/accounts?status=sleeping", "status");
        // Small pages with a filter still visit every match once.
        assertThat(ids("/v1/accounts?limit=1&mailbox=flt-" + tag)).containsExactlyInAnyOrder(a1.id(), a2.id(), b1.id());
    }

    @Test
    void auditTakesATimeRangeAndRefusesAnEmptyOne() {
        Instant before = Instant.now().minusSeconds(1);
        String app = createMicrosoftApp("Audited in range");
        Instant after = Instant.now().plusSeconds(1);
        assertThat(listAll("/v1/audit?action=app.create&object_id=" + app + "&from=" + before + "&to=" + after, ADMIN_KEY))
            .hasSize(1);
        assertThat(listAll("/v1/audit?action=app.create&object_id=" + app + "&to=" + before, ADMIN_KEY)).isEmpty();
        assertThat(listAll("/v1/audit?action=app.create&object_id=" + app + "&from=" + after, ADMIN_KEY)).isEmpty();
        assertInvalid("/v1/audit?from=" + after + "&to=" + before, "from");
        assertInvalid("/v1/audit?from=yesterday", "from");
    }

    @Autowired
    dev.postern.broker.expiry.ExpiryScanner scanner;

    @Test
    void expiryAnswersCountsOverTheWholeScanAndPagesIt() {
        // Two apps with a client secret each: at least two watched objects, so pages of one follow a cursor.
        registerIdpApp("Expiry page 1");
        registerIdpApp("Expiry page 2");
        scanner.scan();
        Answer page = get("/v1/expiry?limit=1", ADMIN_KEY);
        assertThat(page.status()).isEqualTo(200);
        JsonNode counts = page.json().path("counts");
        assertThat(counts.has("ok") && counts.has("warning") && counts.has("expired") && counts.has("reauth_required")).isTrue();
        int total = counts.path("ok").asInt() + counts.path("warning").asInt() + counts.path("expired").asInt()
                + counts.path("reauth_required").asInt();
        List<JsonNode> all = listAll("/v1/expiry", ADMIN_KEY);
        assertThat(all).hasSize(total);
        assertThat(total).isGreaterThanOrEqualTo(2);
        // Pages of one walk the same scan in the same order.
        List<String> walked = new ArrayList<>();
        String cursor = null;
        do {
            Answer small = get("/v1/expiry?limit=1" + (cursor == null ? "" : "&cursor=" + cursor), ADMIN_KEY);
            assertThat(small.status()).isEqualTo(200);
            small.json().path("items").forEach(item -> walked.add(item.path("app_id").asString() + "/" + item.path("id").asString()));
            cursor = small.json().path("next_cursor").asString(null);
        }
        while (cursor != null && walked.size() <= total);
        assertThat(walked).containsExactlyElementsOf(all.stream()
            .map(item -> item.path("app_id").asString() + "/" + item.path("id").asString()).toList());
    }

    @Test
    void expiryItemsNameTheirAppAndTheTimelineCountsTheNext90DaysPerDayAndKind() {
        String name = "Named in expiry " + UUID.randomUUID().toString().substring(0, 8);
        String app = registerIdpApp(name);
        registerIdpApp(name + " too"); // two objects at least, so the first page of one has a next page
        scanner.scan();
        JsonNode first = get("/v1/expiry?limit=1", ADMIN_KEY).json();
        List<JsonNode> all = listAll("/v1/expiry", ADMIN_KEY);
        JsonNode secret = all.stream()
            .filter(item -> item.path("app_id").asString().equals(app) && item.path("kind").asString().equals("client_secret"))
            .findFirst()
            .orElseThrow();
        assertThat(secret.path("app_name").asString()).isEqualTo(name);

        // The secret expires in 90 days: its day is on the timeline, counted with its kind.
        String day = java.time.LocalDate.ofInstant(Instant.parse(secret.path("expires_at").asString()), java.time.ZoneOffset.UTC)
            .toString();
        JsonNode timeline = first.path("timeline");
        int onTimeline = 0;
        JsonNode secretDay = null;
        for (JsonNode entry : timeline) {
            entry.path("counts").forEach(count -> assertThat(count.asInt()).isPositive());
            for (JsonNode count : entry.path("counts")) {
                onTimeline += count.asInt();
            }
            if (entry.path("date").asString().equals(day)) {
                secretDay = entry;
            }
        }
        assertThat(secretDay).as(timeline.toString()).isNotNull();
        assertThat(secretDay.path("counts").path("client_secret").asInt()).isPositive();
        // Only what is still ok or in warning, never more than the scan holds.
        assertThat(onTimeline).isLessThanOrEqualTo(first.path("counts").path("ok").asInt() + first.path("counts").path("warning").asInt());
        // The same timeline on every page: it is over the whole scan.
        assertThat(get("/v1/expiry?limit=1&cursor=" + first.path("next_cursor").asString(), ADMIN_KEY).json().path("timeline"))
            .isEqualTo(timeline);
    }

    @Test
    void theOpenApiDocumentDescribesThePagingOfEveryList() {
        JsonNode document = get("/v3/api-docs", null).json();
        for (String list : LISTS) {
            JsonNode operation = document.path("paths").path(list).path("get");
            Map<String, JsonNode> parameters = new java.util.HashMap<>();
            operation.path("parameters").forEach(p -> parameters.put(p.path("name").asString(), p));
            assertThat(parameters).as(list).containsKeys("limit", "cursor");
            assertThat(parameters.get("limit").path("schema").path("maximum").asInt()).as(list).isEqualTo(500);
            assertThat(parameters.get("limit").path("schema").path("minimum").asInt()).as(list).isEqualTo(1);
            String schema = operation.path("responses").path("200").path("content").iterator().next()
                .path("schema").path("$ref").asString();
            JsonNode properties = document.path("components").path("schemas")
                .path(schema.substring(schema.lastIndexOf('/') + 1)).path("properties");
            assertThat(properties.has("items") && properties.has("next_cursor")).as(list + " " + properties).isTrue();
        }
    }

    private List<String> ids(String path) {
        List<String> ids = new ArrayList<>();
        listAll(path, ADMIN_KEY).forEach(item -> ids.add(item.path("id").asString()));
        return ids;
    }

    private Account connect(String appId, String mailbox) {
        TokenGrant grant = new TokenGrant("at-" + UUID.randomUUID(), Instant.now().plus(Duration.ofHours(1)), "mail",
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt-" + UUID.randomUUID()), mailbox,
                new ProviderIdentity("https://idp.example.test", null, "sub-" + mailbox), Map.of());
        return accounts.connect("test", appId, ProviderKind.MICROSOFT, mailbox, grant);
    }
}
