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
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.PublicUrl;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.accounts.IdentityMismatchException;
import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.connect.ConnectLinkRepository.Attempt;
import dev.postern.broker.connect.ConnectLinkRepository.StoredLink;
import dev.postern.broker.providers.AuthorizationRequest;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.ProviderErrors;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.providers.TokenProviders;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.VersionConflictException;

/**
 * The owner's side of connecting a mailbox: one-time connect links, the trip to the provider
 * with PKCE (S256) and a state bound to the link, and the callback that stores the mailbox's
 * refresh token. The state is checked on the server. A browser-binding cookie ties the callback
 * to the browser that opened the link: under an https {@code postern.public-url} it is
 * {@code SameSite=None; Secure}, so the provider's cross-site {@code form_post} carries it, and it
 * is required; on a plain-http loopback address (the quickstart) browsers refuse {@code None}
 * without {@code Secure}, so a {@code form_post} without it is accepted on the state alone.
 * <p>
 * The mailbox is bound to the identity that connected it (see {@link AccountService#connect}); its
 * address is the one the provider vouches for, and a Microsoft sign-in must come from the app's
 * tenant or one of its allowed tenants.
 */
@Service
public class ConnectService {

    private static final Logger log = LoggerFactory.getLogger(ConnectService.class);

    private static final Pattern GUID = Pattern
        .compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

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

    /** Whether {@code postern.public-url} is https: then cookies are Secure and the callback needs the browser's cookie. */
    public boolean httpsOnly() {
        return "https".equalsIgnoreCase(publicUrl.publicUrl().getScheme());
    }

    /**
     * A link just made, with its URL: the only time the URL (a bearer capability) exists; it is
     * never stored, logged or audited.
     *
     * @param link the stored link
     * @param url the URL to hand to the mailbox owner
     */
    public record IssuedLink(ConnectLink link, URI url) {

        @Override
        public String toString() {
            return "IssuedLink[" + link.ref() + ", url=(redacted)]";
        }
    }

    /** Creates a one-time connect link for {@code appId}. */
    public IssuedLink createLink(String actor, String appId, @Nullable String loginHint, Duration lifetime) {
        AppRepository.StoredApp app = apps.find(appId).orElseThrow(() -> ApiException.notFound("App " + appId));
        if (app.app().activeCredential().isEmpty()) {
            throw ApiException.conflict(ProblemTypes.NO_ACTIVE_CREDENTIAL,
                    "The app has no active credential yet: add, verify and promote one first.");
        }
        Instant now = clock.instant();
        String secret = StoreIds.newUnguessableId("lnk");
        ConnectLink link = new ConnectLink(ConnectLinkRepository.documentId(secret), appId,
                loginHint == null ? null : loginHint.strip().toLowerCase(Locale.ROOT), actor, now, now.plus(lifetime),
                null, null, null);
        links.save(link, null, SecretStore.NEW);
        audit.success(actor, AuditActions.CONNECT_LINK_CREATE, "connect_link", link.ref(), Map.of("app_id", appId));
        return new IssuedLink(link, publicUrl.resolve("/connect/" + secret));
    }

    /** Whether {@code link} can still be opened: not used, not expired, as the store has it now. */
    boolean stillOpen(ConnectLink link) {
        return links.find(link.id())
            .map(StoredLink::link)
            .filter(stored -> stored.usedAt() == null && clock.instant().isBefore(stored.expiresAt()))
            .isPresent();
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

    /** Starts the sign-in of the link whose URL carries {@code secret}. */
    public Start start(String secret) {
        StoredLink stored = links.findBySecret(secret)
            .orElseThrow(() -> new UnknownLinkException("This connect link does not exist."));
        checkUsable(stored.link());
        AppRepository.StoredApp app = apps.find(stored.link().appId())
            .orElseThrow(() -> new ConnectException("The app of this link no longer exists."));
        ProviderClient client = activeClient(app);
        ConnectLink link = stored.link();
        // The state travels through the provider: it names the link by its hash, never by its secret.
        Attempt attempt = new Attempt(link.id() + "." + randomToken(), randomToken(), randomToken());
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
     *        cannot carry a SameSite=Lax cookie; accepted without the cookie only when
     *        {@code postern.public-url} is plain http
     * @return the connected account
     * @throws ConnectException saying exactly why not
     */
    public Account complete(@Nullable String state, @Nullable String code, @Nullable String error,
            @Nullable String errorDescription, @Nullable String browserBinding, boolean crossSitePost) {
        if (state == null || state.isBlank() || state.indexOf('.') < 1) {
            throw new ConnectException("The answer from the sign-in has no valid state. Open your connect link again.");
        }
        String documentId = state.substring(0, state.indexOf('.'));
        StoredLink stored = links.find(documentId)
            .orElseThrow(() -> new UnknownLinkException("The state does not belong to any connect link."));
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
        boolean cookieOptional = crossSitePost && !httpsOnly();
        if (browserBinding != null ? !constantTimeEquals(attempt.browserBinding(), browserBinding) : !cookieOptional) {
            throw new ConnectException("This sign-in was started in another browser. Open your connect link in this one.");
        }
        // Consume the attempt before using the code: the same state can never be used twice. The link is
        // marked used in the same write, so that nobody opens it again while the code is exchanged; a
        // sign-in that connects nothing gives it back (reopen).
        ConnectLink link = stored.link();
        String actor = "connect-link:" + link.ref();
        long version;
        try {
            version = links.save(withUse(link, now, null), null, stored.version());
        }
        catch (VersionConflictException ex) {
            throw new ConnectException("This sign-in was already completed.");
        }
        Account account;
        try {
            account = connect(link, actor, attempt, code, error);
        }
        catch (RuntimeException ex) {
            reopen(link, version);
            throw ex;
        }
        links.save(withUse(link, now, account.id()), null, version);
        return account;
    }

    private static ConnectLink withUse(ConnectLink link, @Nullable Instant usedAt, @Nullable String accountId) {
        return new ConnectLink(link.id(), link.appId(), link.loginHint(), link.createdBy(), link.createdAt(),
                link.expiresAt(), usedAt, accountId, link.attemptStartedAt());
    }

    /** Gives a link back after a sign-in that connected nothing; best effort, the owner is told why anyway. */
    private void reopen(ConnectLink link, long version) {
        try {
            links.save(withUse(link, null, null), null, version);
        }
        catch (RuntimeException ex) {
            log.warn("Connect link {} stays used after a sign-in that connected nothing: {}", link.ref(), ex.toString());
        }
    }

    private Account connect(ConnectLink link, String actor, Attempt attempt, @Nullable String code,
            @Nullable String error) {
        if (error != null) {
            // Whoever holds the link writes this parameter (as long as a form may be, once per state, and
            // a state per opening of the link): only a code of the fixed catalogue is audited and shown.
            String refusal = ProviderErrors.code(error);
            audit.record(actor, AuditActions.ACCOUNT_CONNECT, "connect_link", link.ref(), "failure", Map.of("error", refusal));
            throw new ConnectException("access_denied".equals(refusal)
                    ? "Consent was denied at the sign-in, so Postern may not read this mailbox. Open the link again to retry."
                    : "The provider refused the sign-in (" + refusal + "). Open your connect link again, or ask your administrator.");
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
            log.info("Code exchange for connect link {} failed: {}", link.ref(), ex.error());
            audit.record(actor, AuditActions.ACCOUNT_CONNECT, "connect_link", link.ref(), "failure", Map.of("error", ex.error()));
            throw new ConnectException("The provider did not accept the sign-in (" + ex.error() + "). Open your connect link again.");
        }
        ProviderIdentity identity = grant.identity();
        if (identity == null) {
            throw refused(actor, link, "no_subject", "The provider did not say who signed in (its answer had no 'sub' "
                    + "claim): the app must ask for the 'openid' scope.");
        }
        String tenantRefusal = tenantRefusal(app.app(), identity);
        if (tenantRefusal != null) {
            throw refused(actor, link, "tenant_not_allowed", tenantRefusal);
        }
        String mailbox = grant.username();
        if (mailbox == null) {
            throw refused(actor, link, "no_verified_mailbox", noMailboxReason(app.app(), grant));
        }
        if (link.loginHint() != null && !link.loginHint().equals(mailbox)) {
            throw new ConnectException("You signed in as " + mailbox + ", but this link is for " + link.loginHint()
                    + ". Sign in with that mailbox.");
        }
        try {
            return accounts.connect(actor, app.app().id(), app.app().provider(), mailbox, grant);
        }
        catch (IdentityMismatchException ex) {
            throw new ConnectException(ex.getMessage());
        }
    }

    private ConnectException refused(String actor, ConnectLink link, String reason, String message) {
        audit.record(actor, AuditActions.ACCOUNT_CONNECT, "connect_link", link.ref(), "denied", Map.of("error", reason));
        return new ConnectException(message);
    }

    private static String noMailboxReason(AppRegistration app, TokenGrant grant) {
        if (app.provider() == ProviderKind.MICROSOFT) {
            return "Microsoft did not name the mailbox that signed in (no 'preferred_username' or 'upn' claim): the "
                    + "app must ask for the 'openid' and 'profile' scopes.";
        }
        if (grant.claims().containsKey("email")) {
            return "The provider did not confirm that the e-mail address of this sign-in is yours (no "
                    + "'email_verified: true'), so Postern cannot use it as the mailbox address. Ask your administrator.";
        }
        return "The provider did not tell which mailbox signed in (its answer had the claims " + grant.claims().keySet()
                + "): the app must ask for the 'openid' and 'email' scopes.";
    }

    /**
     * Why a Microsoft sign-in from {@code identity}'s tenant may not connect through {@code app},
     * or {@code null} when it may: a GUID tenant must be the token's {@code tid}; a multi-tenant
     * authority ({@code organizations}, {@code common}) needs the {@code tid} in the app's allowed
     * tenants, and refuses every sign-in while that list is empty; a list, when set, always applies.
     */
    private static @Nullable String tenantRefusal(AppRegistration app, ProviderIdentity identity) {
        if (app.provider() != ProviderKind.MICROSOFT) {
            return null;
        }
        String tid = identity.tenantId() == null ? null : identity.tenantId().toLowerCase(Locale.ROOT);
        String tenant = app.tenant();
        if (tenant != null && GUID.matcher(tenant).matches() && !tenant.equalsIgnoreCase(tid)) {
            return "This mailbox belongs to another Microsoft tenant than the app's. Sign in with a mailbox of your "
                    + "organisation.";
        }
        if (app.multiTenant() && app.allowedTenants().isEmpty()) {
            return "This app accepts Microsoft sign-ins from any organisation but lists no allowed tenants, so it "
                    + "connects no mailbox. Ask your administrator to set the app's allowed tenants.";
        }
        if (!app.allowedTenants().isEmpty() && (tid == null || !app.allowedTenants().contains(tid))) {
            return "This mailbox belongs to a Microsoft tenant this app does not accept. Sign in with a mailbox of "
                    + "your organisation, or ask your administrator to add your tenant to the app.";
        }
        return null;
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
        return app.activeProviderClient()
            .orElseThrow(() -> new ConnectException("The app has no active credential; ask your administrator."));
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
