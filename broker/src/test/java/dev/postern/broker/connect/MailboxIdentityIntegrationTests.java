package dev.postern.broker.connect;

import java.net.URI;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.OwnerBrowser;
import dev.postern.broker.testing.TestIdentityProvider;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A mailbox is bound to the identity that connected it, through the real connect flow against a
 * real identity provider (mock-oauth2-server, whose claims each test chooses per sign-in): a
 * reconnect by another subject is refused and changes nothing, the same subject reconnects, an
 * admin rebinds by deleting first, an unverified e-mail is no mailbox address, an Entra
 * {@code email} claim is ignored, and a multi-tenant app connects only its allowed tenants.
 */
class MailboxIdentityIntegrationTests extends ApiIntegrationTest {

    private static final String TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a";

    private static final String TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b";

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Autowired
    AccountRepository accounts;

    @Autowired
    ApplicationEventPublisher events;

    private static String mailbox(String who) {
        return who + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
    }

    private static String subject(String who) {
        return who + "-subject-" + UUID.randomUUID();
    }

    /** The next sign-in at {@code issuerId} is {@code subject} with these claims (besides scope and token type). */
    private void nextSignIn(String issuerId, String subject, Map<String, Object> claims) {
        Map<String, Object> all = new LinkedHashMap<>(claims);
        all.put("scope", TestIdentityProvider.MAIL_SCOPE);
        all.put("token_type", "Bearer");
        idp.server().enqueueCallback(new DefaultOAuth2TokenCallback(issuerId, subject, "JWT",
                List.of(TestIdentityProvider.CLIENT_ID), all, 3600));
    }

    /** A generic provider's sign-in of {@code subject} whose e-mail is {@code email}, verified or not. */
    private void nextGenericSignIn(String subject, String email, Boolean verified) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("email", email);
        if (verified != null) {
            claims.put("email_verified", verified);
        }
        nextSignIn(TestIdentityProvider.ISSUER_ID, subject, claims);
    }

    private URI newLink(String app, String loginHint) {
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY,
                loginHint == null ? "{}" : "{\"login_hint\":\"" + loginHint + "\"}");
        assertThat(link.status()).as(link.body()).isEqualTo(201);
        return URI.create(link.text("url"));
    }

    private OwnerBrowser.Page open(URI link) {
        return new OwnerBrowser(idp).open(link);
    }

    private AccountRepository.StoredAccount stored(String app, String mailbox) {
        return accounts.findAll()
            .stream()
            .filter(a -> a.appId().equals(app) && a.mailbox().equals(mailbox))
            .findFirst()
            .flatMap(a -> accounts.find(a.id()))
            .orElseThrow(() -> new AssertionError("no account " + mailbox + " of " + app));
    }

    /**
     * A fresh access token of the account from the provider, by its stored refresh token: the
     * cached one is marked expired first. The provider keeps the claims of the sign-in that issued a
     * refresh token, so the token's subject says whose refresh token the broker holds.
     */
    private Map<String, Object> refreshedTokenClaims(String app, String accountId) {
        AccountRepository.StoredAccount current = accounts.find(accountId).orElseThrow();
        accounts.save(current.account(), current.state(),
                new AccountRepository.StoredAccessToken("expired", Instant.now().minusSeconds(1), "mail"), current.version());
        events.publishEvent(new AccountChangedEvent(current.account(), AccountChangedEvent.Change.CONNECTED));
        Answer token = post("/v1/accounts/" + accountId + "/token", createClientKey("client", "[\"" + app + "\"]"), "{}");
        assertThat(token.status()).as(token.body()).isEqualTo(200);
        return TestIdentityProvider.claims(token.text("access_token"));
    }

    private List<JsonNode> audit(String action, String outcome, String objectId) {
        Answer page = get("/v1/audit?limit=500&action=" + action + "&outcome=" + outcome + "&object_id=" + objectId, ADMIN_KEY);
        assertThat(page.status()).as(page.body()).isEqualTo(200);
        List<JsonNode> items = new ArrayList<>();
        page.json().path("items").forEach(items::add);
        return items;
    }

    private String microsoftApp(String tenant, List<String> allowedTenants) {
        Answer created = post("/v1/apps", ADMIN_KEY, """
                {"name":"Entra %s","provider":"microsoft","tenant":"%s","client_id":"11111111-2222-3333-4444-555555555555",
                 "allowed_tenants":%s}""".formatted(tenant, tenant, JSON.writeValueAsString(allowedTenants)));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String app = created.text("id");
        String secret = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"ms-%s","expires_at":"%s"}"""
            .formatted(UUID.randomUUID(), Instant.now().plus(30, ChronoUnit.DAYS))).json().path("credential").path("id").asString();
        assertThat(post("/v1/apps/" + app + "/credentials/" + secret + "/promote", ADMIN_KEY,
                "{\"force\":true,\"reason\":\"test\"}").status()).isEqualTo(200);
        return app;
    }

    /** An Entra sign-in: {@code oid}, {@code tid}, the user's {@code preferred_username}, and an {@code email} claim. */
    private void nextEntraSignIn(String tenantSegment, String oid, String tid, String preferredUsername, String email) {
        nextSignIn(tenantSegment + "/oauth2/v2.0", "pairwise-" + oid,
                Map.of("oid", oid, "tid", tid, "preferred_username", preferredUsername, "email", email));
    }

    @Test
    void aReconnectByAnotherSubjectWithTheVictimsEmailIsRefusedAndTheRefreshTokenStaysTheVictims() {
        String app = registerIdpApp("Identity takeover");
        String victim = mailbox("victim");
        String victimSubject = subject("victim");
        nextGenericSignIn(victimSubject, victim, true);
        assertThat(open(newLink(app, victim)).body()).contains("Connected as " + victim);
        AccountRepository.StoredAccount before = stored(app, victim);
        assertThat(before.account().identity().subject()).isEqualTo(victimSubject);
        assertThat(before.account().identity().issuer()).isEqualTo(idp.issuerUrl());

        // Someone else, whose provider account carries the victim's address, completes a reconnect link.
        String attackerSubject = subject("attacker");
        nextGenericSignIn(attackerSubject, victim, true);
        OwnerBrowser.Page page = open(newLink(app, victim));

        assertThat(page.status()).as(page.body()).isEqualTo(400);
        assertThat(page.body()).contains("Mailbox not connected", "This mailbox is connected to another account")
            .doesNotContain(victimSubject, attackerSubject);
        AccountRepository.StoredAccount after = accounts.find(before.account().id()).orElseThrow();
        assertThat(after.version()).isEqualTo(before.version());
        assertThat(after.state().value()).isEqualTo(before.state().value());
        assertThat(after.account().identity()).isEqualTo(before.account().identity());
        List<JsonNode> denied = audit("account.reconnect", "denied", before.account().id());
        assertThat(denied).hasSize(1);
        assertThat(denied.getFirst().path("details").path("reason").asString()).isEqualTo("identity_mismatch");
        assertThat(denied.getFirst().path("details").path("subject").asString()).isEqualTo(attackerSubject);
        // The broker still holds the victim's refresh token: a token from it is the victim's.
        assertThat(refreshedTokenClaims(app, before.account().id())).containsEntry("sub", victimSubject);
    }

    @Test
    void theSameSubjectReconnectsAndItsRefreshTokenIsReplaced() {
        String app = registerIdpApp("Identity same subject");
        String owner = mailbox("owner");
        String ownerSubject = subject("owner");
        nextGenericSignIn(ownerSubject, owner, true);
        assertThat(open(newLink(app, owner)).body()).contains("Connected as " + owner);
        AccountRepository.StoredAccount before = stored(app, owner);

        nextGenericSignIn(ownerSubject, owner, true);
        OwnerBrowser.Page page = open(newLink(app, owner));

        assertThat(page.status()).as(page.body()).isEqualTo(200);
        AccountRepository.StoredAccount after = accounts.find(before.account().id()).orElseThrow();
        assertThat(after.state().value()).isNotEqualTo(before.state().value());
        assertThat(after.account().identity()).isEqualTo(before.account().identity());
        assertThat(audit("account.reconnect", "success", before.account().id())).hasSize(1);
        assertThat(refreshedTokenClaims(app, before.account().id())).containsEntry("sub", ownerSubject);
    }

    @Test
    void anAdminRebindsAMailboxByDeletingItFirst() {
        String app = registerIdpApp("Identity rebind");
        String mailbox = mailbox("handover");
        String first = subject("first");
        nextGenericSignIn(first, mailbox, true);
        assertThat(open(newLink(app, mailbox)).body()).contains("Connected as " + mailbox);
        String accountId = stored(app, mailbox).account().id();

        Answer revoked = call("DELETE", "/v1/accounts/" + accountId, ADMIN_KEY, null);
        assertThat(revoked.status()).as(revoked.body()).isEqualTo(200);
        assertThat(revoked.text("status")).isEqualTo("revoked");
        String second = subject("second");
        nextGenericSignIn(second, mailbox, true);
        OwnerBrowser.Page page = open(newLink(app, mailbox));

        assertThat(page.status()).as(page.body()).isEqualTo(200);
        Account rebound = accounts.find(accountId).orElseThrow().account();
        assertThat(rebound.status()).isEqualTo(Account.Status.ACTIVE);
        assertThat(rebound.identity().subject()).isEqualTo(second);
        assertThat(audit("account.rebind", "success", accountId)).hasSize(1);
        assertThat(refreshedTokenClaims(app, accountId)).containsEntry("sub", second);
    }

    @Test
    void anUnverifiedEmailIsNoMailboxAddressForAGenericProvider() {
        String app = registerIdpApp("Identity unverified");
        for (Boolean verified : new Boolean[] { false, null }) {
            String mailbox = mailbox("unverified");
            nextGenericSignIn(subject("unverified"), mailbox, verified);

            OwnerBrowser.Page page = open(newLink(app, mailbox));

            assertThat(page.status()).as(page.body()).isEqualTo(400);
            assertThat(page.body()).contains("email_verified");
            assertThat(accounts.findAll()).noneMatch(a -> a.mailbox().equals(mailbox));
        }
    }

    @Test
    void anEntraEmailClaimNamingAnotherMailboxIsIgnored() {
        String app = microsoftApp("contoso.onmicrosoft.com", List.of());
        String victim = mailbox("entra-victim");
        nextEntraSignIn("contoso.onmicrosoft.com", "oid-" + UUID.randomUUID(), TENANT_A, victim, victim);
        assertThat(open(newLink(app, victim)).body()).contains("Connected as " + victim);
        AccountRepository.StoredAccount before = stored(app, victim);

        // The attacker set the (unverified, user-editable) email attribute of their Entra user to the victim's address.
        String attacker = mailbox("entra-attacker");
        nextEntraSignIn("contoso.onmicrosoft.com", "oid-" + UUID.randomUUID(), TENANT_A, attacker, victim);
        OwnerBrowser.Page page = open(newLink(app, null));

        assertThat(page.body()).as(page.body()).contains("Connected as " + attacker).doesNotContain("Connected as " + victim);
        AccountRepository.StoredAccount after = accounts.find(before.account().id()).orElseThrow();
        assertThat(after.version()).isEqualTo(before.version());
        assertThat(after.state().value()).isEqualTo(before.state().value());
    }

    @Test
    void aMultiTenantAppNeedsAllowedTenantsAndConnectsOnlyThose() {
        Answer withoutList = post("/v1/apps", ADMIN_KEY, """
                {"name":"Any org","provider":"microsoft","tenant":"organizations",
                 "client_id":"11111111-2222-3333-4444-555555555555"}""");
        assertThat(withoutList.status()).as(withoutList.body()).isEqualTo(400);
        assertThat(withoutList.json().path("errors").path("allowed_tenants").asString()).contains("required");
        Answer notGuids = post("/v1/apps", ADMIN_KEY, """
                {"name":"Any org","provider":"microsoft","tenant":"common",
                 "client_id":"11111111-2222-3333-4444-555555555555","allowed_tenants":["contoso.com"]}""");
        assertThat(notGuids.status()).as(notGuids.body()).isEqualTo(400);
        assertThat(notGuids.json().path("errors").has("allowed_tenants")).isTrue();

        String app = microsoftApp("organizations", List.of(TENANT_A.toUpperCase()));
        assertThat(get("/v1/apps/" + app, ADMIN_KEY).json().path("allowed_tenants").get(0).asString()).isEqualTo(TENANT_A);
        String outsider = mailbox("outsider");
        nextEntraSignIn("organizations", "oid-" + UUID.randomUUID(), TENANT_B, outsider, outsider);
        OwnerBrowser.Page refused = open(newLink(app, outsider));

        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        assertThat(refused.body()).contains("tenant this app does not accept");
        assertThat(accounts.findAll()).noneMatch(a -> a.mailbox().equals(outsider));

        String member = mailbox("member");
        String oid = "oid-" + UUID.randomUUID();
        nextEntraSignIn("organizations", oid, TENANT_A, member, member);
        assertThat(open(newLink(app, member)).body()).contains("Connected as " + member);
        Account connected = stored(app, member).account();
        assertThat(connected.identity().subject()).isEqualTo(oid);
        assertThat(connected.identity().tenantId()).isEqualTo(TENANT_A);
    }
}
