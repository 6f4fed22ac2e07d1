package dev.postern.broker.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The base of tests that call the v1 API of a broker running on a real Vault (see
 * {@link TestVault}). Every subclass shares one broker, started once; each test works with
 * objects it creates itself.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
public abstract class ApiIntegrationTest {

    /** The key of the bootstrap admin of the shared broker. */
    protected static final String ADMIN_KEY = "pst_test_admin_" + UUID.randomUUID().toString().replace("-", "");

    protected static final JsonMapper JSON = JsonMapper.builder().build();

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @DynamicPropertySource
    static void vaultStore(DynamicPropertyRegistry registry) {
        // Fixed before start, once per context (subclasses with other properties get their own), so the
        // public URL and with it the OAuth redirect URI are known.
        int brokerPort = TestVault.freePort();
        registry.add("server.port", () -> brokerPort);
        registry.add("postern.public-url", () -> "http://127.0.0.1:" + brokerPort);
        TestIdentityProvider idp = TestIdentityProvider.shared();
        registry.add("spring.ssl.bundle.jks.idp.truststore.location", () -> "file:" + idp.trustStoreFile());
        registry.add("spring.ssl.bundle.jks.idp.truststore.password", () -> TestIdentityProvider.TRUST_STORE_PASSWORD);
        registry.add("spring.ssl.bundle.jks.idp.truststore.type", () -> "PKCS12");
        registry.add("postern.providers.ssl-bundle", () -> "idp");
        registry.add("postern.providers.microsoft-authority-host", idp::baseUrl);
        TestVault vault = TestVault.shared();
        registry.add("postern.store.type", () -> "vault");
        registry.add("postern.store.vault.uri", vault::address);
        registry.add("postern.store.vault.token", vault::rootToken);
        String prefix = "postern-api-" + UUID.randomUUID() + "/";
        registry.add("postern.store.vault.prefix", () -> prefix);
        registry.add("postern.access.bootstrap-admin-key", () -> ADMIN_KEY);
        registry.add("postern.outbound.allowed-hosts", () -> "127.0.0.1,localhost");
    }

    @LocalServerPort
    protected int port;

    /** The answer of an API call: status, body as JSON (or missing), raw body. */
    public record Answer(int status, JsonNode json, String body, HttpResponse<String> response) {

        public String text(String field) {
            return json.path(field).asString();
        }
    }

    protected Answer call(String method, String path, String key, String jsonBody) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        if (jsonBody != null) {
            request.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json;
            try {
                json = response.body().isBlank() ? JSON.missingNode() : JSON.readTree(response.body());
            }
            catch (RuntimeException ex) {
                json = JSON.missingNode();
            }
            ResponseLog.record(response.body());
            return new Answer(response.statusCode(), json, response.body(), response);
        }
        catch (java.io.IOException ex) {
            throw new IllegalStateException(method + " " + path + " failed", ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    protected Answer get(String path, String key) {
        return call("GET", path, key, null);
    }

    /** Every item of the paged list at {@code path}, following {@code next_cursor} page by page. */
    protected java.util.List<JsonNode> listAll(String path, String key) {
        java.util.List<JsonNode> items = new java.util.ArrayList<>();
        String cursor = null;
        do {
            Answer page = get(path + (path.contains("?") ? "&" : "?") + "limit=500"
                    + (cursor == null ? "" : "&cursor=" + cursor), key);
            if (page.status() != 200) {
                throw new IllegalStateException("GET " + path + " answered " + page.status() + ": " + page.body());
            }
            page.json().path("items").forEach(items::add);
            cursor = page.json().path("next_cursor").asString(null);
        }
        while (cursor != null);
        return items;
    }

    protected Answer post(String path, String key, String jsonBody) {
        return call("POST", path, key, jsonBody);
    }

    /** Creates an API client with {@code role} and returns its key. */
    protected String createClientKey(String role, String allowedApps) {
        Answer created = post("/v1/clients", ADMIN_KEY, """
                {"name":"test %s","role":"%s","allowed_apps":%s}""".formatted(role, role, allowedApps));
        if (created.status() != 201) {
            throw new IllegalStateException("could not create a client: " + created.body());
        }
        return created.text("key");
    }

    /**
     * Registers a generic app at the shared test identity provider with a verified, active secret
     * and returns its id: the app every connect and token test connects mailboxes through.
     */
    protected String registerIdpApp(String name) {
        return registerIdpApp(name, TestIdentityProvider.shared().issuerUrl() + "/authorize");
    }

    /**
     * {@link #registerIdpApp(String)} for an owner in a real browser: the app's authorize endpoint
     * carries {@code prompt=login}, which makes the provider show its sign-in page, where the owner
     * types a user name, instead of answering at once (the shared provider runs without
     * {@code interactiveLogin} so that the HTTP-client tests need no sign-in step).
     */
    protected String registerIdpAppWithSignInPage(String name) {
        return registerIdpApp(name, TestIdentityProvider.shared().issuerUrl() + "/authorize?prompt=login");
    }

    /** {@link #registerIdpApp(String)} with the mail servers the mail proxy logs in to. */
    protected String registerIdpMailApp(String name, URI imapEndpoint, URI smtpEndpoint) {
        return registerIdpApp(name, TestIdentityProvider.shared().issuerUrl() + "/authorize",
                ",\"imap_endpoint\":\"" + imapEndpoint + "\",\"smtp_endpoint\":\"" + smtpEndpoint + "\"");
    }

    private String registerIdpApp(String name, String authorizeEndpoint) {
        return registerIdpApp(name, authorizeEndpoint, "");
    }

    private String registerIdpApp(String name, String authorizeEndpoint, String moreFields) {
        String issuer = TestIdentityProvider.shared().issuerUrl();
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"%s","provider":"generic","client_id":"%s","authorize_endpoint":"%s",
                 "token_endpoint":"%s/token","scopes":["openid","email","mail","offline_access"]%s}"""
            .formatted(name, TestIdentityProvider.CLIENT_ID, authorizeEndpoint, issuer, moreFields));
        if (created.status() != 201) {
            throw new IllegalStateException("could not register the app: " + created.body());
        }
        String app = created.text("id");
        String credential = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"idp-secret-%s","expires_at":"%s"}"""
            .formatted(UUID.randomUUID(), java.time.Instant.now().plus(java.time.Duration.ofDays(90))))
            .json().path("credential").path("id").asString();
        Answer verified = post("/v1/apps/" + app + "/credentials/" + credential + "/verify", ADMIN_KEY, null);
        if (!verified.json().path("verification").path("accepted").asBoolean()) {
            throw new IllegalStateException("the identity provider refused the test secret: " + verified.body());
        }
        if (post("/v1/apps/" + app + "/credentials/" + credential + "/promote", ADMIN_KEY, null).status() != 200) {
            throw new IllegalStateException("could not promote the test secret");
        }
        return app;
    }

    /**
     * Connects {@code mailbox} to {@code app} (registered with {@link #registerIdpApp}) through a
     * connect link, as its owner would, and returns the account id.
     */
    protected String connectMailbox(String app, String mailbox) {
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        if (link.status() != 201) {
            throw new IllegalStateException("could not create a connect link: " + link.body());
        }
        TestIdentityProvider.shared().nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
        OwnerBrowser.Page page = new OwnerBrowser(TestIdentityProvider.shared()).open(URI.create(link.text("url")));
        if (page.status() != 200 || !page.body().contains("Connected as " + mailbox)) {
            throw new IllegalStateException("the owner's sign-in did not connect " + mailbox + ": " + page.body());
        }
        JsonNode listed = get("/v1/accounts", ADMIN_KEY).json();
        for (JsonNode account : listed.has("items") ? listed.get("items") : listed) {
            if (account.path("mailbox").asString().equals(mailbox) && account.path("app_id").asString().equals(app)) {
                return account.path("id").asString();
            }
        }
        throw new IllegalStateException(mailbox + " is not listed after connecting");
    }

    /** Creates a Microsoft app and returns its id. */
    protected String createMicrosoftApp(String name) {
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"%s","provider":"microsoft","tenant":"contoso.onmicrosoft.com",
                 "client_id":"11111111-2222-3333-4444-555555555555"}""".formatted(name));
        if (created.status() != 201) {
            throw new IllegalStateException("could not create an app: " + created.body());
        }
        return created.text("id");
    }
}
