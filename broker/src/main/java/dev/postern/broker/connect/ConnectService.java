package dev.postern.broker.connect;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.PublicUrl;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.apps.AppService;
import dev.postern.broker.apps.Credential;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.connect.ConnectLinkRepository.Attempt;
import dev.postern.broker.connect.ConnectLinkRepository.StoredLink;
import dev.postern.broker.providers.AuthorizationRequest;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.providers.TokenProviders;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.VersionConflictException;

/**
 * The owner's side of connecting a mailbox: one-time connect links, the trip to the provider
 * with PKCE (S256) and a state bound to the link, and the callback that stores the mailbox's
 * refresh token. The state is checked on the server, because Microsoft answers with a
 * cross-site {@code form_post} that carries no SameSite=Lax cookie; a browser-binding cookie is
 * checked whenever the browser sends it.
 */
@Service
public class ConnectService {

    private static final Logger log = LoggerFactory.getLogger(ConnectService.class);

    /** How long an owner may take between opening the link and coming back from the provider. */
    static final Duration ATTEMPT_LIFETIME = Duration.ofMinutes(15);

    private final ConnectLinkRepository links;

    private final AppRepository apps;

    private final AccountService accounts;

    private final TokenProviders providers;

    private final AuditLog audit;

    private final PublicUrl publicUrl;

    private final Clock clock;

    private final SecureRandom random = new SecureRandom();

    public ConnectService(ConnectLinkRepository links, AppRepository apps, AccountService accounts,
            TokenProviders providers, AuditLog audit, PublicUrl publicUrl, Clock clock) {
        this.links = links;
        this.apps = apps;
        this.accounts = accounts;
        this.providers = providers;
        this.audit = audit;
        this.publicUrl = publicUrl;
        this.clock = clock;
    }

    /** The redirect URI registered at the provider. */
    public URI redirectUri() {
        return publicUrl.resolve("/oauth2/callback");
    }

    /** The URL of a connect link. */
    public URI linkUrl(String linkId) {
        return publicUrl.resolve("/connect/" + linkId);
    }

    /** Creates a one-time connect link for {@code appId}. */
    public ConnectLink createLink(String actor, String appId, @Nullable String loginHint, Duration lifetime) {
        AppRepository.StoredApp app = apps.find(appId).orElseThrow(() -> ApiException.notFound("App " + appId));
        if (app.app().activeCredential().isEmpty()) {
            throw ApiException.conflict("no-active-credential",
                    "The app has no active credential yet: add, verify and promote one first.");
        }
        Instant now = clock.instant();
        ConnectLink link = new ConnectLink(StoreIds.newUnguessableId("lnk"), appId,
                loginHint == null ? null : loginHint.strip().toLowerCase(Locale.ROOT), actor, now, now.plus(lifetime),
                null, null, null);
        links.save(link, null, SecretStore.NEW);
        audit.success(actor, "connect_link.create", "connect_link", link.id(), Map.of("app_id", appId));
        return link;
    }

    /**
     * Where the owner's browser goes next.
     *
     * @param redirect the provider's authorize URL
     * @param browserBinding the value to set in the browser-binding cookie
     */
    public record Start(URI redirect, String browserBinding) {

        @Override
        public String toString() {
            return "Start[(redacted)]";
        }
    }

    /** Starts the sign-in of link {@code linkId}. */
    public Start start(String linkId) {
        StoredLink stored = links.find(linkId).orElseThrow(() -> new ConnectException("This connect link does not exist."));
        checkUsable(stored.link());
        AppRepository.StoredApp app = apps.find(stored.link().appId())
            .orElseThrow(() -> new ConnectException("The app of this link no longer exists."));
        ProviderClient client = activeClient(app);
        Attempt attempt = new Attempt(linkId + "." + randomToken(), randomToken(), randomToken());
        ConnectLink link = stored.link();
        ConnectLink started = new ConnectLink(link.id(), link.appId(), link.loginHint(), link.createdBy(),
                link.createdAt(), link.expiresAt(), null, null, clock.instant());
        try {
            links.save(started, attempt, stored.version());
        }
        catch (VersionConflictException ex) {
            throw new ConnectException("This link was opened twice at the same moment; open it again.");
        }
        URI redirect = providers.forKind(app.app().provider())
            .authorizationUrl(client, new AuthorizationRequest(redirectUri(), attempt.state(),
                    challenge(attempt.codeVerifier()), randomToken(), link.loginHint()));
        return new Start(redirect, attempt.browserBinding());
    }

    /**
     * Completes the sign-in the provider sent back.
     *
     * @param state the {@code state} parameter
     * @param code the authorization code, when consent was given
     * @param error the provider's {@code error}, when not
     * @param browserBinding the binding cookie, when the browser sent it
     * @param crossSitePost whether this is the provider's cross-site {@code form_post}, which
     *        cannot carry a SameSite=Lax cookie
     * @return the connected account
     * @throws ConnectException saying exactly why not
     */
    public Account complete(@Nullable String state, @Nullable String code, @Nullable String error,
            @Nullable String errorDescription, @Nullable String browserBinding, boolean crossSitePost) {
        if (state == null || state.isBlank() || state.indexOf('.') < 1) {
            throw new ConnectException("The answer from the sign-in has no valid state. Open your connect link again.");
        }
        String linkId = state.substring(0, state.indexOf('.'));
        StoredLink stored = links.find(linkId)
            .orElseThrow(() -> new ConnectException("The state does not belong to any connect link."));
        Attempt attempt = stored.attempt();
        if (attempt == null || !constantTimeEquals(attempt.state(), state)) {
            throw new ConnectException("The state does not match this link's sign-in (it was replayed, or the link "
                    + "was opened again since). Open your connect link again.");
        }
        checkUsable(stored.link());
        Instant now = clock.instant();
        if (stored.link().attemptStartedAt() == null || stored.link().attemptStartedAt().plus(ATTEMPT_LIFETIME).isBefore(now)) {
            throw new ConnectException("The sign-in took longer than 15 minutes. Open your connect link again.");
        }
        if (browserBinding != null ? !constantTimeEquals(attempt.browserBinding(), browserBinding) : !crossSitePost) {
            throw new ConnectException("This sign-in was started in another browser. Open your connect link in this one.");
        }
        // Consume the attempt before using the code: the same state can never be used twice.
        ConnectLink link = stored.link();
        long version;
        try {
            version = links.save(link, null, stored.version());
        }
        catch (VersionConflictException ex) {
            throw new ConnectException("This sign-in was already completed.");
        }
        if (error != null) {
            audit.record("connect-link:" + linkId, "account.connect", "connect_link", linkId, "failure", Map.of("error", error));
            throw new ConnectException("access_denied".equals(error)
                    ? "Consent was denied at the sign-in, so Postern may not read this mailbox. Open the link again to retry."
                    : "The provider refused the sign-in (" + error + "). Open your connect link again, or ask your administrator.");
        }
        if (code == null || code.isBlank()) {
            throw new ConnectException("The answer from the sign-in has no authorization code.");
        }
        AppRepository.StoredApp app = apps.find(link.appId())
            .orElseThrow(() -> new ConnectException("The app of this link no longer exists."));
        TokenGrant grant;
        try {
            grant = providers.forKind(app.app().provider())
                .exchangeCode(activeClient(app), code, redirectUri(), attempt.codeVerifier());
        }
        catch (ProviderException ex) {
            log.info("Code exchange for connect link {} failed: {}", linkId, ex.error());
            audit.record("connect-link:" + linkId, "account.connect", "connect_link", linkId, "failure", Map.of("error", ex.error()));
            throw new ConnectException("The provider did not accept the sign-in (" + ex.error() + "). Open your connect link again.");
        }
        String mailbox = grant.username();
        if (mailbox == null) {
            throw new ConnectException("The provider did not tell which mailbox signed in (its answer had the claims "
                    + grant.claims().keySet() + "): the app must ask for the 'openid' and 'email' scopes.");
        }
        checkTenant(app.app(), grant);
        if (link.loginHint() != null && !link.loginHint().equals(mailbox)) {
            throw new ConnectException("You signed in as " + mailbox + ", but this link is for " + link.loginHint()
                    + ". Sign in with that mailbox.");
        }
        Account account = accounts.connect("connect-link:" + linkId, app.app().id(), app.app().provider(), mailbox, grant);
        ConnectLink used = new ConnectLink(link.id(), link.appId(), link.loginHint(), link.createdBy(), link.createdAt(),
                link.expiresAt(), now, account.id(), link.attemptStartedAt());
        links.save(used, null, version);
        return account;
    }

    private static void checkTenant(AppRegistration app, TokenGrant grant) {
        String tid = grant.claims().get("tid");
        if (app.tenant() != null && tid != null && app.tenant().matches("[0-9a-fA-F-]{36}")
                && !app.tenant().equalsIgnoreCase(tid)) {
            throw new ConnectException("This mailbox belongs to another Microsoft tenant than the app's. Sign in with "
                    + "a mailbox of your organisation.");
        }
    }

    private void checkUsable(ConnectLink link) {
        if (link.usedAt() != null) {
            throw new ConnectException("This connect link was already used. Ask your administrator for a new one.");
        }
        if (!clock.instant().isBefore(link.expiresAt())) {
            throw new ConnectException("This connect link has expired. Ask your administrator for a new one.");
        }
    }

    private static ProviderClient activeClient(AppRepository.StoredApp app) {
        Credential credential = app.app()
            .activeCredential()
            .orElseThrow(() -> new ConnectException("The app has no active credential; ask your administrator."));
        return AppService.providerClient(app.app(), credential, app.secrets());
    }

    private String randomToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String challenge(String verifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static boolean constantTimeEquals(String expected, String actual) {
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), actual.getBytes(StandardCharsets.UTF_8));
    }
}
