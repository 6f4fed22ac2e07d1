package dev.postern.broker.tokens;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A refresh token stored while a refresh is on its way (the owner reconnected) is never
 * overwritten by the refresh's own rotated token: the CAS write fails, the broker re-reads, sees a
 * newer refresh token and keeps it. The token endpoint is a local server that holds its answer
 * until the test has written the newer token.
 */
@Timeout(60)
class RefreshConflictIntegrationTests extends ApiIntegrationTest {

    @Autowired
    AccountRepository accounts;

    private HttpServer tokenEndpoint;

    @AfterEach
    void stop() {
        if (tokenEndpoint != null) {
            tokenEndpoint.stop(0);
        }
    }

    @Test
    void aRefreshTokenStoredMeanwhileIsKept() throws Exception {
        CountDownLatch refreshArrived = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        tokenEndpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        tokenEndpoint.createContext("/token", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                in.readAllBytes();
            }
            refreshArrived.countDown();
            try {
                answer.await(30, TimeUnit.SECONDS);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "{\"access_token\":\"at-from-slow-refresh\",\"refresh_token\":\"rt-rotated-by-slow-refresh\",\"expires_in\":3600,\"token_type\":\"Bearer\"}"
                .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        tokenEndpoint.start();
        int port = tokenEndpoint.getAddress().getPort();
        String app = post("/v1/apps", ADMIN_KEY, """
                {"name":"Slow provider","provider":"generic","client_id":"slow","authorize_endpoint":"http://127.0.0.1:%d/authorize",
                 "token_endpoint":"http://127.0.0.1:%d/token","scopes":["mail"]}""".formatted(port, port)).text("id");
        String credential = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"slow-secret","expires_at":"%s"}"""
            .formatted(Instant.now().plus(30, ChronoUnit.DAYS))).json().path("credential").path("id").asString();
        post("/v1/apps/" + app + "/credentials/" + credential + "/promote", ADMIN_KEY, "{\"force\":true,\"reason\":\"test\"}");
        Instant now = Instant.now();
        Account account = new Account("acc_conflict" + System.nanoTime() % 100000, app, ProviderKind.GENERIC,
                "mona@example.test", Account.Status.ACTIVE, "mail", now, now, now, null, null);
        accounts.save(account, new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt-original"), null, SecretStore.NEW);
        String clientKey = createClientKey("client", "[\"" + app + "\"]");

        CompletableFuture<Answer> token = CompletableFuture
            .supplyAsync(() -> post("/v1/accounts/" + account.id() + "/token", clientKey, "{}"));
        assertThat(refreshArrived.await(20, TimeUnit.SECONDS)).isTrue();
        AccountRepository.StoredAccount before = accounts.find(account.id()).orElseThrow();
        accounts.save(before.account().reconnected(Instant.now(), "mail", before.account().identity()),
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt-from-reconnect"), null, before.version());
        answer.countDown();

        Answer issued = token.get(30, TimeUnit.SECONDS);
        assertThat(issued.status()).as(issued.body()).isEqualTo(200);
        assertThat(issued.text("access_token")).isEqualTo("at-from-slow-refresh");
        assertThat(accounts.find(account.id()).orElseThrow().state().value()).isEqualTo("rt-from-reconnect");
    }
}
