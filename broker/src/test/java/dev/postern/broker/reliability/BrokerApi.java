package dev.postern.broker.reliability;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;

/**
 * The v1 API of one broker (in this JVM or a child process) as the fault tests use it: set up a
 * generic app, a client key, connect mailboxes as their owner would, and ask for tokens.
 */
final class BrokerApi {

    static final JsonMapper JSON = JsonMapper.builder().build();

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final int port;

    final String adminKey;

    BrokerApi(int port, String adminKey) {
        this.port = port;
        this.adminKey = adminKey;
    }

    /** An answer with how long it took. */
    record Answer(int status, JsonNode json, String body, HttpResponse<String> response, Duration took) {

        String text(String field) {
            return json.path(field).asString();
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    Answer call(String method, String path, String key, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        long started = System.nanoTime();
        try {
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            JsonNode json;
            try {
                json = response.body().isBlank() ? JSON.missingNode() : JSON.readTree(response.body());
            }
            catch (RuntimeException ex) {
                json = JSON.missingNode();
            }
            return new Answer(response.statusCode(), json, response.body(), response, took);
        }
        catch (java.io.IOException ex) {
            throw new IllegalStateException(method + " " + path + " failed", ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    Answer post(String path, String key, String body) {
        return call("POST", path, key, body);
    }

    /** A token for account {@code accountId} with at least {@code minTtl} seconds left. */
    Answer token(String clientKey, String accountId, int minTtl) {
        return post("/v1/accounts/" + accountId + "/token", clientKey, "{\"min_ttl_seconds\":" + minTtl + "}");
    }

    /** A generic app at {@code authorizeEndpoint}/{@code tokenEndpoint} with a verified, promoted secret; its id. */
    String genericApp(String authorizeEndpoint, String tokenEndpoint) {
        Answer created = post("/v1/apps", adminKey, """
                {"name":"Fault app %s","provider":"generic","client_id":"%s","authorize_endpoint":"%s",
                 "token_endpoint":"%s","scopes":["openid","email","mail","offline_access"]}"""
            .formatted(UUID.randomUUID().toString().substring(0, 8), TestIdentityProvider.CLIENT_ID, authorizeEndpoint,
                    tokenEndpoint));
        require(created, 201);
        String app = created.text("id");
        Answer credential = post("/v1/apps/" + app + "/credentials", adminKey, """
                {"type":"client_secret","value":"idp-secret-%s","expires_at":"%s"}"""
            .formatted(UUID.randomUUID(), Instant.now().plus(90, ChronoUnit.DAYS)));
        require(credential, 201);
        String credentialId = credential.json().path("credential").path("id").asString();
        Answer verified = post("/v1/apps/" + app + "/credentials/" + credentialId + "/verify", adminKey, null);
        if (!verified.json().path("verification").path("accepted").asBoolean()) {
            throw new IllegalStateException("the provider did not accept the credential: " + verified.body());
        }
        require(post("/v1/apps/" + app + "/credentials/" + credentialId + "/promote", adminKey, null), 200);
        return app;
    }

    /** A client key that may use {@code apps}. */
    String clientKey(String... apps) {
        Answer created = post("/v1/clients", adminKey, """
                {"name":"fault client","role":"client","allowed_apps":["%s"]}""".formatted(String.join("\",\"", apps)));
        require(created, 201);
        return created.text("key");
    }

    /**
     * Connects {@code mailbox} to {@code app} as its owner would; tokens the provider issues for it
     * (and the rotations of its refresh token) live {@code tokenLifetime}. Returns the account id.
     */
    String connect(TestIdentityProvider idp, String issuerId, String app, String mailbox, Duration tokenLifetime) {
        return connectAll(idp, issuerId, app, List.of(mailbox), tokenLifetime).get(mailbox);
    }

    /**
     * {@link #connect} for several mailboxes, one after another (the provider hands its next token to
     * whoever asks next), listing the accounts once at the end rather than after each: a listing reads
     * every account from the store. Returns the account ids by mailbox, in the order given.
     */
    Map<String, String> connectAll(TestIdentityProvider idp, String issuerId, String app, List<String> mailboxes,
            Duration tokenLifetime) {
        for (String mailbox : mailboxes) {
            Answer link = post("/v1/apps/" + app + "/connect-links", adminKey, "{\"login_hint\":\"" + mailbox + "\"}");
            require(link, 201);
            idp.nextTokenFor(issuerId, mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), tokenLifetime);
            OwnerBrowser.Page page = new OwnerBrowser(idp).open(URI.create(link.text("url")));
            if (page.status() != 200 || !page.body().contains("Connected as " + mailbox)) {
                throw new IllegalStateException("connect failed: " + page.status() + " " + page.body());
            }
        }
        Map<String, String> ids = new HashMap<>();
        String cursor = null;
        StringBuilder listed = new StringBuilder();
        do {
            Answer accounts = call("GET", "/v1/accounts?limit=500" + (cursor == null ? "" : "&cursor=" + cursor), adminKey,
                    null);
            require(accounts, 200);
            for (JsonNode account : accounts.json().path("items")) {
                ids.put(account.path("mailbox").asString(), account.path("id").asString());
            }
            listed.append(accounts.body());
            cursor = accounts.json().path("next_cursor").asString(null);
        }
        while (cursor != null);
        Map<String, String> connected = new LinkedHashMap<>();
        for (String mailbox : mailboxes) {
            String id = ids.get(mailbox);
            if (id == null) {
                throw new IllegalStateException("no account for " + mailbox + " in " + listed);
            }
            connected.put(mailbox, id);
        }
        return connected;
    }

    private static void require(Answer answer, int status) {
        if (answer.status() != status) {
            throw new IllegalStateException("expected " + status + ", got " + answer.status() + ": " + answer.body());
        }
    }
}
