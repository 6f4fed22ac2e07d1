package dev.postern.broker.connect;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.web.util.UriComponentsBuilder;

import dev.postern.broker.accounts.AccountRepository;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.testing.TestIdentityProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attacks on the owner's connect flow against a real identity provider (mock-oauth2-server over
 * HTTPS): forged, missing and replayed state, used and expired links, the callback from another
 * browser, a code sent to another redirect URI, a code of another link. Each is refused with the
 * owner's error page and connects no mailbox.
 */
class ConnectFlowAttackIntegrationTests extends ApiIntegrationTest {

    private final TestIdentityProvider idp = TestIdentityProvider.shared();

    @Autowired
    AccountRepository accounts;

    @Autowired
    ConnectLinkRepository links;

    private String app;

    @BeforeEach
    void genericAppWithAnActiveSecret() {
        app = registerIdpApp("Attack IdP");
    }

    /** A browser that takes one step at a time, so a test can stop at, change or replay any of them. */
    private final class Browser {

        final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);

        final HttpClient http = HttpClient.newBuilder()
            .cookieHandler(cookies)
            .sslContext(idp.sslContext())
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

        HttpResponse<String> get(URI uri) {
            try {
                return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
            }
            catch (IOException ex) {
                throw new IllegalStateException("GET " + uri, ex);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(ex);
            }
        }

        HttpResponse<String> postForm(URI uri, Map<String, String> fields) {
            StringBuilder form = new StringBuilder();
            fields.forEach((name, value) -> form.append(form.isEmpty() ? "" : "&")
                .append(URLEncoder.encode(name, StandardCharsets.UTF_8))
                .append('=')
                .append(URLEncoder.encode(value, StandardCharsets.UTF_8)));
            try {
                return http.send(HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
                    .build(), HttpResponse.BodyHandlers.ofString());
            }
            catch (IOException ex) {
                throw new IllegalStateException("POST " + uri, ex);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(ex);
            }
        }

        /** Opens the link; returns the provider's authorize URL the broker sent the browser to. */
        URI open(URI link) {
            HttpResponse<String> start = get(link);
            assertThat(start.statusCode()).as(start.body()).isEqualTo(302);
            return URI.create(start.headers().firstValue("Location").orElseThrow());
        }

        /** Signs in at the provider; returns where the provider sends the browser back. */
        URI signIn(URI authorize, String mailbox) {
            HttpResponse<String> answer = get(authorize);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(302);
            return URI.create(answer.headers().firstValue("Location").orElseThrow());
        }

        String bindingCookie() {
            return cookies.getCookieStore()
                .getCookies()
                .stream()
                .filter(cookie -> cookie.getName().equals(ConnectController.BINDING_COOKIE))
                .map(HttpCookie::getValue)
                .findFirst()
                .orElseThrow();
        }
    }

    /**
     * Who the provider says signed in at the next code exchange. Only set right before an exchange
     * that is meant to succeed: one left queued would be handed to the next test's token request.
     */
    private void nextSignInIs(String mailbox) {
        idp.nextTokenFor(mailbox, List.of(TestIdentityProvider.MAIL_SCOPE), Duration.ofHours(1));
    }

    private URI newLink(String mailbox) {
        Answer link = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{\"login_hint\":\"" + mailbox + "\"}");
        assertThat(link.status()).as(link.body()).isEqualTo(201);
        return URI.create(link.text("url"));
    }

    private static String mailbox(String who) {
        return who + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
    }

    private static String param(URI uri, String name) {
        return UriComponentsBuilder.fromUri(uri).build(true).getQueryParams().getFirst(name);
    }

    private URI callback(String state, String code) {
        UriComponentsBuilder uri = UriComponentsBuilder.fromUriString("http://127.0.0.1:" + port + "/oauth2/callback");
        if (state != null) {
            uri.queryParam("state", URLEncoder.encode(state, StandardCharsets.UTF_8));
        }
        if (code != null) {
            uri.queryParam("code", URLEncoder.encode(code, StandardCharsets.UTF_8));
        }
        return uri.build(true).toUri();
    }

    private void assertRefused(HttpResponse<String> page, String because) {
        assertThat(page.statusCode()).as(page.body()).isEqualTo(400);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains("Mailbox not connected");
        assertThat(page.body()).contains(because).doesNotContain("Exception");
    }

    private void assertNotConnected(String mailbox) {
        assertThat(accounts.findAll()).noneMatch(account -> account.mailbox().equals(mailbox));
    }

    private long accountsOf(String mailbox) {
        return accounts.findAll().stream().filter(account -> account.mailbox().equals(mailbox)).count();
    }

    @Test
    void theHonestFlowConnectsOnce() {
        String mailbox = mailbox("honest");
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(newLink(mailbox)), mailbox);

        nextSignInIs(mailbox);
        HttpResponse<String> done = owner.get(back);

        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(done.body()).contains("Connected as " + mailbox);
        assertThat(accountsOf(mailbox)).isEqualTo(1);
    }

    @Test
    void aForgedStateIsRefused() {
        String mailbox = mailbox("forged");
        URI link = newLink(mailbox);
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(link), mailbox);
        // The state names the link by the hash of its secret.
        String linkId = ConnectLinkRepository.documentId(link.getPath().substring("/connect/".length()));

        assertRefused(owner.get(callback(linkId + ".forged-" + UUID.randomUUID(), param(back, "code"))), "does not match");
        assertRefused(owner.get(callback("lnk_nosuchlink." + UUID.randomUUID(), param(back, "code"))), "does not belong");
        assertRefused(owner.get(callback("app/../lnk." + UUID.randomUUID(), param(back, "code"))), "does not belong");
        assertNotConnected(mailbox);
        // The forged attempts did not burn the real one: the owner still gets through.
        nextSignInIs(mailbox);
        assertThat(owner.get(back).statusCode()).isEqualTo(200);
    }

    @Test
    void aMissingStateIsRefused() {
        String mailbox = mailbox("nostate");
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(newLink(mailbox)), mailbox);

        assertRefused(owner.get(callback(null, param(back, "code"))), "no valid state");
        assertRefused(owner.get(callback("", param(back, "code"))), "no valid state");
        assertRefused(owner.get(callback("nodot", param(back, "code"))), "no valid state");
        assertNotConnected(mailbox);
    }

    @Test
    void aReplayedCallbackIsRefusedAndConnectsNothingMore() {
        String mailbox = mailbox("replay");
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(newLink(mailbox)), mailbox);
        nextSignInIs(mailbox);
        assertThat(owner.get(back).statusCode()).isEqualTo(200);
        var before = accounts.findAll().stream().filter(a -> a.mailbox().equals(mailbox)).findFirst().orElseThrow();

        assertRefused(owner.get(back), "replayed");
        assertRefused(owner.postForm(callback(null, null), Map.of("state", param(back, "state"), "code",
                param(back, "code"))), "replayed");

        assertThat(accountsOf(mailbox)).isEqualTo(1);
        var after = accounts.find(before.id()).orElseThrow().account();
        assertThat(after.lastRefreshAt()).isEqualTo(before.lastRefreshAt());
    }

    /**
     * Whoever holds a link (a link without login_hint is handed to mailbox owners) can answer its
     * callback with any {@code error}, and open the link again for a new state as often as they
     * like: what is audited and shown is a code of the fixed catalogue, never their text (up to the
     * 64 KiB of a form, 500 events to an audit chunk).
     */
    @Test
    void aProvidersErrorIsAuditedAndShownAsACodeOfTheCatalogueOnly() {
        Answer created = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY, "{}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String linkRef = created.text("id");
        Browser holder = new Browser();
        URI authorize = holder.open(URI.create(created.text("url")));
        String marker = "injected-" + UUID.randomUUID();

        HttpResponse<String> page = holder.postForm(callback(null, null),
                Map.of("state", param(authorize, "state"), "error", marker + "x".repeat(60_000)));

        assertRefused(page, "The provider refused the sign-in (other)");
        assertThat(page.body()).doesNotContain(marker);
        Answer audit = get("/v1/audit?action=account.connect&outcome=failure&object_id=" + linkRef, ADMIN_KEY);
        assertThat(audit.json().path("items")).singleElement()
            .satisfies(entry -> assertThat(entry.path("details").path("error").asString()).isEqualTo("other"));

        // A code of the catalogue is kept as it is.
        authorize = holder.open(URI.create(created.text("url")));
        assertRefused(holder.postForm(callback(null, null), Map.of("state", param(authorize, "state"), "error",
                "access_denied")), "Consent was denied");
    }

    @Test
    void aUsedLinkCannotBeOpenedAgain() {
        String mailbox = mailbox("reused");
        URI link = newLink(mailbox);
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(link), mailbox);
        nextSignInIs(mailbox);
        assertThat(owner.get(back).statusCode()).isEqualTo(200);

        HttpResponse<String> again = new Browser().get(link);

        assertThat(again.statusCode()).isEqualTo(400);
        assertThat(again.body()).contains("Cannot connect this mailbox", "already used");
        assertThat(again.headers().firstValue("Location")).isEmpty();
    }

    @Test
    void anExpiredLinkIsRefusedBeforeAndDuringTheSignIn() {
        String mailbox = mailbox("expired");
        Answer created = post("/v1/apps/" + app + "/connect-links", ADMIN_KEY,
                "{\"login_hint\":\"" + mailbox + "\",\"expires_in_seconds\":300}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(Instant.parse(created.text("expires_at"))).isBefore(Instant.now().plusSeconds(301));
        URI link = URI.create(created.text("url"));
        String linkId = ConnectLinkRepository.documentId(link.getPath().substring("/connect/".length()));

        // The owner starts in time, then the link runs out while they are at the provider.
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(link), mailbox);
        expire(linkId);

        assertRefused(owner.get(back), "expired");
        HttpResponse<String> reopened = new Browser().get(link);
        assertThat(reopened.statusCode()).isEqualTo(400);
        assertThat(reopened.body()).contains("expired");
        assertNotConnected(mailbox);
    }

    private void expire(String linkId) {
        ConnectLinkRepository.StoredLink stored = links.find(linkId).orElseThrow();
        ConnectLink link = stored.link();
        links.save(new ConnectLink(link.id(), link.appId(), link.loginHint(), link.createdBy(), link.createdAt(),
                Instant.now().minusSeconds(1), link.usedAt(), link.accountId(), link.attemptStartedAt()), stored.attempt(),
                stored.version());
    }

    @Test
    void aCallbackFromAnotherBrowserIsRefused() {
        String mailbox = mailbox("otherbrowser");
        Browser owner = new Browser();
        URI back = owner.signIn(owner.open(newLink(mailbox)), mailbox);

        // The code and state reach someone else (a shared screen, a proxy log): their browser has no cookie.
        assertRefused(new Browser().get(back), "another browser");
        Browser forger = new Browser();
        forger.cookies.getCookieStore().add(URI.create("http://127.0.0.1:" + port + "/oauth2/callback"),
                cookie(ConnectController.BINDING_COOKIE, "forged-" + owner.bindingCookie().substring(8)));
        assertRefused(forger.get(back), "another browser");
        assertRefused(forger.postForm(callback(null, null), Map.of("state", param(back, "state"), "code",
                param(back, "code"))), "another browser");
        assertNotConnected(mailbox);
        // Refusals did not consume the attempt: the owner's own browser completes it.
        nextSignInIs(mailbox);
        assertThat(owner.get(back).statusCode()).isEqualTo(200);
    }

    private static HttpCookie cookie(String name, String value) {
        HttpCookie cookie = new HttpCookie(name, value);
        cookie.setPath("/oauth2/callback");
        cookie.setVersion(0);
        return cookie;
    }

    @Test
    void aCodeSentToAnotherRedirectUriIsNotAcceptedWithTheBrokersOwn() {
        String mailbox = mailbox("redirect");
        Browser owner = new Browser();
        URI authorize = owner.open(newLink(mailbox));
        String registered = param(authorize, "redirect_uri");
        assertThat(decoded(registered)).isEqualTo("http://127.0.0.1:" + port + "/oauth2/callback");
        // Someone rewrites the redirect URI on the way to the provider: another path, then another port.
        for (String tampered : List.of("http://127.0.0.1:" + port + "/oauth2/callback-evil",
                "http://127.0.0.1:" + (port + 1) + "/oauth2/callback")) {
            URI changed = UriComponentsBuilder.fromUri(authorize)
                .replaceQueryParam("redirect_uri", URLEncoder.encode(tampered, StandardCharsets.UTF_8))
                .build(true)
                .toUri();
            URI back = owner.signIn(changed, mailbox);
            assertThat(back.toString()).startsWith(tampered);
            if (tampered.contains("callback-evil")) {
                // Landing on the broker at another path connects nothing: no access rule lists it.
                HttpResponse<String> landed = owner.get(back);
                assertThat(landed.statusCode()).isEqualTo(401);
                assertNotConnected(mailbox);
            }
            idp.drainRecordedRequests();
            // The attacker at the other end brings the code to the real callback, in the owner's browser.
            HttpResponse<String> replayed = owner.get(callback(param(back, "state"), param(back, "code")));
            String exchange = idp.drainRecordedRequests().stream()
                .filter(request -> request.getPath().endsWith("/token"))
                .map(request -> request.getBody().clone().readUtf8())
                .findFirst()
                .orElse("");
            // The broker redeems codes only with the redirect URI it registered, never the one a code was
            // sent to: a provider that binds codes to their redirect URI (RFC 6749 4.1.3) refuses the code.
            assertThat(exchange).contains("redirect_uri=" + URLEncoder.encode("http://127.0.0.1:" + port + "/oauth2/callback",
                    StandardCharsets.UTF_8));
            assertThat(exchange).doesNotContain(URLEncoder.encode(tampered, StandardCharsets.UTF_8));
            // No sign-in was queued, so a provider that redeems the code anyway names no mailbox: either
            // way nothing is connected. Which of the two happened is printed for the report.
            assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(400);
            assertNotConnected(mailbox);
            System.out.println("[connect attacks] code sent to " + tampered + ", redeemed by the broker with its registered "
                    + "redirect URI: " + (replayed.body().contains("did not accept") ? "refused by the provider"
                            : "the provider redeemed it (mock-oauth2-server does not bind codes to redirect URIs)"));
            owner = new Browser();
            authorize = owner.open(newLink(mailbox));
        }
    }

    private static String decoded(String value) {
        return java.net.URLDecoder.decode(value, StandardCharsets.UTF_8);
    }

    @Test
    void aCodeOfAnotherLinkIsRefused() {
        String victim = mailbox("victim");
        String attacker = mailbox("attacker");
        Browser victimBrowser = new Browser();
        URI victimBack = victimBrowser.signIn(victimBrowser.open(newLink(victim)), victim);
        Browser attackerBrowser = new Browser();
        URI attackerBack = attackerBrowser.signIn(attackerBrowser.open(newLink(attacker)), attacker);

        // Link A's state and cookie with link B's code: the PKCE verifier of A does not fit B's code.
        HttpResponse<String> mixed = victimBrowser.get(callback(param(victimBack, "state"), param(attackerBack, "code")));

        assertRefused(mixed, "did not accept");
        assertNotConnected(attacker);
        assertNotConnected(victim);
    }

}
