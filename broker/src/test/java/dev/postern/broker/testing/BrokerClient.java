package dev.postern.broker.testing;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The v1 API of one broker (a shared test context, one started by {@link TestBroker}, or a child
 * process) over {@code java.net.http}, as every test uses it: raw calls, paged lists, and the set-up
 * steps (a generic app at the test identity provider, a client key, mailboxes connected as their
 * owner would).
 */
public final class BrokerClient {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public final int port;

    public final String adminKey;

    private final Consumer<Answer> observer;

    public BrokerClient(int port, String adminKey) {
        this(port, adminKey, answer -> {
        });
    }

    /** A client that shows every answer to {@code observer} (such as {@link ResponseLog}). */
    public BrokerClient(int port, String adminKey, Consumer<Answer> observer) {
        this.port = port;
        this.adminKey = adminKey;
        this.observer = observer;
    }

    /**
     * The answer of an API call: status, body as JSON (or missing), raw body, and how long it took.
     */
    public record Answer(int status, JsonNode json, String body, HttpResponse<String> response, Duration took) {

        public String text(String field) {
            return json.path(field).asString();
        }

        public @Nullable String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    /** {@code method path} with {@code key} as the bearer key (or none) and {@code jsonBody} (or none). */
    public Answer call(String method, String path, @Nullable String key, @Nullable String jsonBody) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(60))
            .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (jsonBody != null) {
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
            Answer answer = new Answer(response.statusCode(), json, response.body(), response, took);
            observer.accept(answer);
            return answer;
        }
        catch (java.io.IOException ex) {
            throw new IllegalStateException(method + " " + path + " failed", ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    public Answer get(String path, @Nullable String key) {
        return call("GET", path, key, null);
    }

    public Answer post(String path, @Nullable String key, @Nullable String jsonBody) {
        return call("POST", path, key, jsonBody);
    }

    /** Every item of the paged list at {@code path}, following {@code next_cursor} page by page. */
    public List<JsonNode> listAll(String path, String key) {
        List<JsonNode> items = new ArrayList<>();
        String cursor = null;
        do {
            Answer page = get(path + (path.contains("?") ? "&" : "?") + "limit=500"
                    + (cursor == null ? "" : "&cursor=" + cursor), key);
            require(page, 200);
            page.json().path("items").forEach(items::add);
            cursor = page.json().path("next_cursor").asString(null);
        }
        while (cursor != null);
        return items;
    }

    /** A token for account {@code accountId} with at least {@code minTtl} seconds left. */
    public Answer token(String clientKey, String accountId, int minTtl) {
        return post("/v1/accounts/" + accountId + "/token", clientKey, "{\"min_ttl_seconds\":" + minTtl + "}");
    }

    /**
     * A generic app named {@code name} at {@code authorizeEndpoint}/{@code tokenEndpoint} (the test
     * identity provider's client id) with a verified, promoted secret; its id.
     */
    public String genericApp(String name, String authorizeEndpoint, String tokenEndpoint) {
        return genericApp(name, authorizeEndpoint, tokenEndpoint, "");
    }

    /** {@link #genericApp(String, String, String)} with {@code moreFields} (JSON members after a comma) in its registration. */
    public String genericApp(String name, String authorizeEndpoint, String tokenEndpoint, String moreFields) {
        Answer created = post("/v1/apps", adminKey, """
                {"name":"%s","provider":"generic","client_id":"%s","authorize_endpoint":"%s",
                 "token_endpoint":"%s","scopes":["openid","email","mail","offline_access"]%s}"""
            .formatted(name, TestIdentityProvider.CLIENT_ID, authorizeEndpoint, tokenEndpoint, moreFields));
        require(created, 201);
        String app = created.text("id");
        Answer credential = post("/v1/apps/" + app + "/credentials", adminKey, """
                {"type":"client_secret","value":"idp-secret-%s","expires_at":"%s"}"""
            .formatted(UUID.randomUUID(), Instant.now().plus(90, ChronoUnit.DAYS)));
        require(credential, 201);
        String credentialId = credential.json().path("credential").path("id").asString();
        Answer verified = post("/v1/apps/" + app + "/credentials/" + credentialId + "/verify", adminKey, null);
        if (!verified.json().path("verification").path("accepted").asBoolean()) {
            throw new IllegalStateException("the identity provider refused the test secret: " + verified.body());
        }
        require(post("/v1/apps/" + app + "/credentials/" + credentialId + "/promote", adminKey, null), 200);
        return app;
    }

    /** {@link #genericApp(String, String, String)} under a name of its own. */
    public String genericApp(String authorizeEndpoint, String tokenEndpoint) {
        return genericApp("Test app " + UUID.randomUUID().toString().substring(0, 8), authorizeEndpoint, tokenEndpoint);
    }

    /** A new API client with {@code role} that may use the apps in {@code allowedAppsJson} (a JSON array); its key. */
    public String clientKey(String role, String allowedAppsJson) {
        Answer created = post("/v1/clients", adminKey, """
                {"name":"test %s","role":"%s","allowed_apps":%s}""".formatted(role, role, allowedAppsJson));
        require(created, 201);
        return created.text("key");
    }

    /** A new API client with the role {@code client} that may use {@code apps}; its key. */
    public String clientKey(String... apps) {
        return clientKey("client", apps.length == 0 ? "[]" : "[\"" + String.join("\",\"", apps) + "\"]");
    }

    /**
     * Connects {@code mailbox} to {@code app} through a connect link, as its owner would, with the
     * provider's next tokens made for it at the issuer {@code issuerId} and living {@code tokenLifetime};
     * the account id.
     */
    public String connect(TestIdentityProvider idp, String issuerId, String app, String mailbox, Duration tokenLifetime) {
        return connectAll(idp, issuerId, app, List.of(mailbox), tokenLifetime).get(mailbox);
    }

    /**
     * {@link #connect} for several mailboxes, one after another (the provider hands its next token to
     * whoever asks next), listing the accounts once at the end rather than after each. Returns the
     * account ids by mailbox, in the order given.
     */
    public Map<String, String> connectAll(TestIdentityProvider idp, String issuerId, String app, List<String> mailboxes,
            Duration tokenLifetime) {
        for (String mailbox : mailboxes) {
            Answer link = post("/v1/apps/" + app + "/connect-links", adminKey, "{\"login_hint\":\"" + mailbox + "\"}");
            require(link, 201);
            idp.nextTokenFor(issuerId, mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), tokenLifetime);
            OwnerBrowser.Page page = new OwnerBrowser(idp).open(URI.create(link.text("url")));
            if (page.status() != 200 || !page.body().contains("Connected as " + mailbox)) {
                throw new IllegalStateException("the owner's sign-in did not connect " + mailbox + ": " + page.status()
                        + " " + page.body());
            }
        }
        Map<String, String> ids = new LinkedHashMap<>();
        listAll("/v1/accounts?app_id=" + app, adminKey)
            .forEach(account -> ids.put(account.path("mailbox").asString(), account.path("id").asString()));
        Map<String, String> connected = new LinkedHashMap<>();
        for (String mailbox : mailboxes) {
            String id = ids.get(mailbox);
            if (id == null) {
                throw new IllegalStateException("no account for " + mailbox + " among " + ids.keySet());
            }
            connected.put(mailbox, id);
        }
        return connected;
    }

    /** The id of the account of {@code mailbox}. */
    public String accountId(String mailbox) {
        String address = mailbox.toLowerCase(Locale.ROOT);
        List<JsonNode> found = listAll("/v1/accounts?mailbox=" + URLEncoder.encode(address, StandardCharsets.UTF_8),
                adminKey);
        return found.stream()
            .filter(account -> account.path("mailbox").asString().equals(address))
            .map(account -> account.path("id").asString())
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no account for " + mailbox));
    }

    private static void require(Answer answer, int status) {
        if (answer.status() != status) {
            throw new IllegalStateException("expected " + status + ", got " + answer.status() + ": " + answer.body());
        }
    }

    /**
     * Sends {@code request} as it is (request line, headers, blank line) over a plain socket to the
     * broker on {@code port} and returns the whole answer, bytes as ISO-8859-1: for what Java's HTTP
     * client refuses to send (malformed URLs, control bytes in headers).
     */
    public static String rawExchange(int port, String request) throws java.io.IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
