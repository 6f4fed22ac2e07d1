package dev.postern.broker.testing;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.testing.BrokerClient.Answer;

/**
 * The base of tests that call the v1 API of a broker running on a real Vault (see
 * {@link TestVault}). Every subclass shares one broker, started once and configured as
 * {@link TestBroker#properties}; each test works with objects it creates itself, through the
 * {@link BrokerClient} of that broker.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
// Every test class reaches the shared broker from 127.0.0.1, and several send wrong keys on purpose: the
// per-address limit would refuse the next class's new keys. FailedKeyFloodIntegrationTests sets its own
// (a dynamic property, which takes precedence over this one).
@TestPropertySource(properties = "postern.access.max-failed-authentications-per-address=1000000")
public abstract class ApiIntegrationTest {

    /** The key of the bootstrap admin of the shared broker. */
    protected static final String ADMIN_KEY = TestBroker.newAdminKey();

    protected static final JsonMapper JSON = BrokerClient.JSON;

    @DynamicPropertySource
    static void vaultStore(DynamicPropertyRegistry registry) {
        // Fixed before start, once per context (subclasses with other properties get their own), so the
        // public URL and with it the OAuth redirect URI are known.
        TestVault vault = TestVault.shared();
        TestBroker.properties(vault.address(), vault.rootToken(), "postern-api-" + UUID.randomUUID() + "/",
                TestVault.freePort(), ADMIN_KEY)
            .forEach((name, value) -> registry.add(name, () -> value));
    }

    @LocalServerPort
    protected int port;

    @Autowired
    private MeterRegistry meters;

    /** How many store requests of {@code operation} on {@code collection} the broker made so far. */
    protected double storeRequests(String operation, String collection) {
        Counter counter = meters.find(CountingSecretStore.METRIC)
            .tags("operation", operation, "collection", collection)
            .counter();
        return counter == null ? 0 : counter.count();
    }

    private BrokerClient api;

    /** The shared broker's API. */
    protected BrokerClient api() {
        if (api == null || api.port != port) {
            // Every body is kept for the test that searches all answers for secrets.
            api = new BrokerClient(port, ADMIN_KEY, answer -> ResponseLog.record(answer.body()));
        }
        return api;
    }

    protected Answer call(String method, String path, String key, String jsonBody) {
        return api().call(method, path, key, jsonBody);
    }

    protected Answer get(String path, String key) {
        return api().get(path, key);
    }

    protected Answer post(String path, String key, String jsonBody) {
        return api().post(path, key, jsonBody);
    }

    /** Every item of the paged list at {@code path}, following {@code next_cursor} page by page. */
    protected List<JsonNode> listAll(String path, String key) {
        return api().listAll(path, key);
    }

    /** Creates an API client with {@code role} and returns its key. */
    protected String createClientKey(String role, String allowedApps) {
        return api().clientKey(role, allowedApps);
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
        return api().genericApp(name, authorizeEndpoint, TestIdentityProvider.shared().issuerUrl() + "/token", moreFields);
    }

    /**
     * Connects {@code mailbox} to {@code app} (registered with {@link #registerIdpApp}) through a
     * connect link, as its owner would, and returns the account id.
     */
    protected String connectMailbox(String app, String mailbox) {
        return api().connect(TestIdentityProvider.shared(), TestIdentityProvider.ISSUER_ID, app, mailbox,
                Duration.ofHours(1));
    }

    /** The id of the account of {@code mailbox}. */
    protected String accountId(String mailbox) {
        return api().accountId(mailbox);
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
