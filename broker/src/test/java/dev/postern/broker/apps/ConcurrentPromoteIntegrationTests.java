package dev.postern.broker.apps;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/** Two admins promoting different credentials of one app at the same moment leave exactly one active. */
class ConcurrentPromoteIntegrationTests extends ApiIntegrationTest {

    @Autowired
    AppRepository repository;

    @Test
    void simultaneousPromotionsLeaveExactlyOneActive() throws Exception {
        String secondAdmin = createClientKey("admin", "[]");
        String app = createMicrosoftApp("Race");
        String first = addSecret(app);
        String second = addSecret(app);
        int conflicts = 0;

        for (int round = 0; round < 10; round++) {
            CountDownLatch start = new CountDownLatch(1);
            String a = round % 2 == 0 ? first : second;
            String b = round % 2 == 0 ? second : first;
            CompletableFuture<Answer> one = CompletableFuture.supplyAsync(() -> promote(ADMIN_KEY, app, a, start));
            CompletableFuture<Answer> two = CompletableFuture.supplyAsync(() -> promote(secondAdmin, app, b, start));
            start.countDown();

            List<Integer> statuses = List.of(one.get().status(), two.get().status());
            assertThat(statuses).allMatch(status -> status == 200 || status == 409);
            conflicts += (int) statuses.stream().filter(status -> status == 409).count();
            List<Credential> credentials = repository.find(app).orElseThrow().app().credentials();
            assertThat(credentials).filteredOn(c -> c.state() == Credential.CredentialState.ACTIVE).hasSize(1);
        }
        System.out.println("[promote race] 10 rounds, " + conflicts + " promotions refused with 409, always one active");
    }

    private String addSecret(String app) {
        return post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"v-%d","expires_at":"%s"}"""
            .formatted(System.nanoTime(), Instant.now().plus(100, ChronoUnit.DAYS))).json()
            .path("credential")
            .path("id")
            .asString();
    }

    private Answer promote(String key, String app, String credential, CountDownLatch start) {
        try {
            start.await();
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        return post("/v1/apps/" + app + "/credentials/" + credential + "/promote", key,
                "{\"force\":true,\"reason\":\"race test\"}");
    }
}
