package dev.postern.broker.audit;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.testing.ApiIntegrationTest;

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

    @Test
    void theTrailCannotBeChangedThroughTheApi() {
        assertThat(call("DELETE", "/v1/audit", ADMIN_KEY, null).status()).isEqualTo(405);
        assertThat(call("PUT", "/v1/audit", ADMIN_KEY, "{}").status()).isEqualTo(405);
        assertThat(call("POST", "/v1/audit", ADMIN_KEY, "{}").status()).isEqualTo(405);
        assertThat(get("/v1/audit?limit=0", ADMIN_KEY).status()).isEqualTo(400);
    }
}
