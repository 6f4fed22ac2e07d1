package dev.postern.broker.audit;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;


import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit trail over the API: paged newest first, filtered, append-only. */
class AuditIntegrationTests extends ApiIntegrationTest {

    @Test
    void pagesFollowTheCursorNewestFirstWithoutOverlap() {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(createMicrosoftApp("Audited " + i));
        }

        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Answer page = get("/v1/audit?action=app.create&limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
                    ADMIN_KEY);
            assertThat(page.status()).isEqualTo(200);
            for (JsonNode item : page.json().path("items")) {
                assertThat(item.path("actor").asString()).isEqualTo(dev.postern.broker.access.ApiKeys.clientIdFor(ADMIN_KEY));
                assertThat(item.path("outcome").asString()).isEqualTo("success");
                assertThat(item.path("request_id").asString()).isNotBlank();
                seen.add(item.path("object_id").asString());
            }
            cursor = page.json().path("next_cursor").asString(null);
            pages++;
        }
        while (cursor != null && pages < 100);

        List<String> ours = seen.stream().filter(created::contains).toList();
        assertThat(ours).containsExactlyElementsOf(created.reversed());
        assertThat(seen).doesNotHaveDuplicates();
    }

    @Autowired
    SecretStore store;

    @Test
    void chunksNamedBeforeTheirTimeSpanWasAreStillPagedAndFilteredByTime() {
        // A chunk as written before chunk names carried the oldest event time: chunk_{flush millis}_{id}.
        long at = System.currentTimeMillis() - 60_000;
        String object = "obj_legacy" + java.util.UUID.randomUUID().toString().substring(0, 8);
        java.util.Map<String, Object> event = new java.util.LinkedHashMap<>();
        event.put("id", "evt_%013d_%06d".formatted(at, 1));
        event.put("at", java.time.Instant.ofEpochMilli(at).toString());
        event.put("actor", "legacy");
        event.put("action", "legacy.test");
        event.put("object_type", "app");
        event.put("object_id", object);
        event.put("outcome", "success");
        event.put("details", java.util.Map.of());
        store.write(SecretPath.of(StoreCollection.AUDIT, "chunk_%013d_c_legacy%s".formatted(at + 500, object.substring(10))),
                SecretDocument.of(java.util.Map.of("events", List.of(event))), SecretStore.NEW);

        java.time.Instant time = java.time.Instant.ofEpochMilli(at);
        assertThat(listAll("/v1/audit?object_id=" + object, ADMIN_KEY)).singleElement()
            .satisfies(found -> assertThat(found.path("action").asString()).isEqualTo("legacy.test"));
        assertThat(listAll("/v1/audit?object_id=" + object + "&from=" + time + "&to=" + time.plusMillis(1), ADMIN_KEY)).hasSize(1);
        assertThat(listAll("/v1/audit?object_id=" + object + "&from=" + time.plusMillis(1), ADMIN_KEY)).isEmpty();
    }

    @Test
    void aFilteredPageEndsAtItsStoreBudgetWithACursorAndFollowingItFindsEverything() {
        String object = "obj_budget" + java.util.UUID.randomUUID().toString().substring(0, 8);
        long at = System.currentTimeMillis() - java.time.Duration.ofHours(3).toMillis();
        java.util.function.BiFunction<Long, String, AuditEvent> event = (millis, objectId) -> new AuditEvent(
                "evt_%013d_%06d".formatted(millis, 1), java.time.Instant.ofEpochMilli(millis), "budget", "budget.test", "thing",
                objectId, "success", null, java.util.Map.of());
        // The match, then more chunks after it than one page may read, none of them matching.
        List<AuditEvent> match = List.of(event.apply(at, object));
        store.write(AuditChunks.newChunkPath(match), AuditChunks.documentOf(match), SecretStore.NEW);
        for (int i = 1; i <= AuditLog.STORE_CALLS_PER_PAGE + 10; i++) {
            List<AuditEvent> filler = List.of(event.apply(at + i * 10L, "obj_filler"));
            store.write(AuditChunks.newChunkPath(filler), AuditChunks.documentOf(filler), SecretStore.NEW);
        }

        Answer first = get("/v1/audit?object_id=" + object + "&limit=10", ADMIN_KEY);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.json().path("items")).as("the budget ran out before the match").isEmpty();
        assertThat(first.json().path("next_cursor").asString(null)).isNotBlank();
        assertThat(listAll("/v1/audit?object_id=" + object, ADMIN_KEY)).singleElement()
            .satisfies(found -> assertThat(found.path("action").asString()).isEqualTo("budget.test"));
    }

    @Test
    void theTrailCannotBeChangedThroughTheApi() {
        assertThat(call("DELETE", "/v1/audit", ADMIN_KEY, null).status()).isEqualTo(405);
        assertThat(call("PUT", "/v1/audit", ADMIN_KEY, "{}").status()).isEqualTo(405);
        assertThat(call("POST", "/v1/audit", ADMIN_KEY, "{}").status()).isEqualTo(405);
        assertThat(get("/v1/audit?limit=0", ADMIN_KEY).status()).isEqualTo(400);
    }
}
