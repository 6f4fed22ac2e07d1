package dev.postern.broker.apps;

import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.apps.AppRepository.StoredApp;
import dev.postern.broker.apps.Credential.CredentialState;
import dev.postern.broker.apps.Credential.CredentialType;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.outbound.EndpointNotAllowedException;
import dev.postern.broker.outbound.OutboundPolicy;
import dev.postern.broker.providers.CredentialCheck;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenProviders;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreIds;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.store.VersionConflictException;

/**
 * App registrations and the rotation of their credentials: add a secret or generate a
 * certificate (pending), verify it live at the provider, promote it (exactly one active per
 * app, decided by one compare-and-set), delete what is no longer needed. A replaced credential
 * is retired, not removed, so mailboxes keep working until it expires or is deleted.
 */
@Service
public class AppService {

    /** Microsoft refuses client secrets that live longer than this. */
    static final int MICROSOFT_MAX_SECRET_MONTHS = 24;

    private static final Pattern GUID = Pattern
        .compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private static final Pattern TENANT_DOMAIN = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9.-]{0,200}\\.[a-zA-Z]{2,63}");

    private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}");

    private final AppRepository apps;

    private final CertificateGenerator certificates;

    private final TokenProviders providers;

    private final AuditLog audit;

    private final Clock clock;

    private final OutboundPolicy outbound;

    public AppService(AppRepository apps, CertificateGenerator certificates, TokenProviders providers,
            AuditLog audit, Clock clock, OutboundPolicy outbound) {
        this.outbound = outbound;
        this.apps = apps;
        this.certificates = certificates;
        this.providers = providers;
        this.audit = audit;
        this.clock = clock;
    }

    /**
     * The fields of an app an admin sets.
     *
     * @param name a human name
     * @param provider the identity provider
     * @param tenant the Microsoft tenant
     * @param clientId the client id at the provider
     * @param scopes the scopes, or {@code null} for the provider's defaults
     * @param authorizeEndpoint a generic provider's authorize endpoint
     * @param tokenEndpoint a generic provider's token endpoint
     * @param userinfoEndpoint a generic provider's userinfo endpoint
     * @param allowedTenants the Entra directory ids whose mailboxes may connect
     * @param imapEndpoint the IMAP server for the mail proxy ({@code imaps://} or {@code imap://} for STARTTLS)
     * @param smtpEndpoint the SMTP submission server for the mail proxy ({@code smtps://} or {@code smtp://} for STARTTLS)
     * @param clientSecret on an update, the app's client secret again: the proof that allows changing
     *        where an app that holds credentials sends them (see {@link #update})
     */
    public record AppFields(@Nullable String name, @Nullable ProviderKind provider, @Nullable String tenant,
            @Nullable String clientId, @Nullable List<String> scopes, @Nullable URI authorizeEndpoint,
            @Nullable URI tokenEndpoint, @Nullable URI userinfoEndpoint, @Nullable List<String> allowedTenants,
            @Nullable URI imapEndpoint, @Nullable URI smtpEndpoint, @Nullable String clientSecret) {

        @Override
        public String toString() {
            return "AppFields[name=" + name + ", provider=" + provider + "]";
        }
    }

    /** A credential and the warnings its creation raised. */
    public record CredentialResult(AppRegistration app, Credential credential, List<String> warnings) {
    }

    /** A page of apps in id order after the app {@code after} ({@code null}: the first page). */
    public StorePage<AppRegistration> page(@Nullable String after, int limit) {
        return apps.page(after, limit);
    }

    public AppRegistration get(String appId) {
        return load(appId).app();
    }

    public AppRegistration create(String actor, AppFields fields) {
        if (fields.clientSecret() != null) {
            throw ApiException.invalidField("client_secret",
                    "is not taken here: add credentials with POST /v1/apps/{id}/credentials");
        }
        if (fields.provider() == null) {
            throw ApiException.invalidField("provider", "must be one of microsoft, google, generic");
        }
        Instant now = clock.instant();
        AppRegistration app = validated(new AppRegistration(StoreIds.newId("app"), orEmpty(fields.name()),
                fields.provider(), fields.tenant(), orEmpty(fields.clientId()),
                fields.scopes() == null ? fields.provider().defaultScopes() : fields.scopes(),
                fields.authorizeEndpoint(), fields.tokenEndpoint(), fields.userinfoEndpoint(), now, now, List.of(),
                tenantIds(fields.allowedTenants()), MailEndpoints.imap(fields.imapEndpoint()),
                MailEndpoints.smtp(fields.smtpEndpoint())));
        apps.save(app, Map.of(), dev.postern.broker.store.SecretStore.NEW);
        audit.success(actor, AuditActions.APP_CREATE, "app", app.id(),
                Map.of("provider", app.provider().name().toLowerCase(Locale.ROOT), "name", app.name()));
        return app;
    }

    /**
     * Changes the fields given (not {@code null}); the provider cannot change. On an app that holds
     * credentials, a change of where they are sent (tenant, client id, authorize, token or userinfo
     * endpoint) is refused with {@code 409 credential-bound} unless the request carries the client
     * secret of the active credential (of any client-secret credential when none is active) again:
     * otherwise an admin could send the stored secret, and mailboxes' refresh tokens, to a host of
     * their own. With that proof, the proven credential is kept and every other credential is
     * deleted with its secret, because nobody showed it may go to the new destination. An app whose
     * credential is a certificate cannot be moved: register a new app and add a new credential there.
     * Old and new values are audited (endpoints and ids are not secrets).
     */
    public AppRegistration update(String actor, String appId, AppFields fields) {
        StoredApp stored = load(appId);
        AppRegistration current = stored.app();
        if (fields.provider() != null && fields.provider() != current.provider()) {
            throw ApiException.invalidField("provider", "cannot change; register a new app instead");
        }
        AppRegistration changed = validated(new AppRegistration(current.id(), pick(fields.name(), current.name()),
                current.provider(), pick(fields.tenant(), current.tenant()), pick(fields.clientId(), current.clientId()),
                pick(fields.scopes(), current.scopes()), pick(fields.authorizeEndpoint(), current.authorizeEndpoint()),
                pick(fields.tokenEndpoint(), current.tokenEndpoint()),
                pick(fields.userinfoEndpoint(), current.userinfoEndpoint()), current.createdAt(), clock.instant(),
                current.credentials(), pick(tenantIds(fields.allowedTenants()), current.allowedTenants()),
                pick(MailEndpoints.imap(fields.imapEndpoint()), current.imapEndpoint()),
                pick(MailEndpoints.smtp(fields.smtpEndpoint()), current.smtpEndpoint())));
        Map<String, String> details = destinationChanges(current, changed);
        Map<String, String> secrets = stored.secrets();
        if (!details.isEmpty() && !current.credentials().isEmpty()) {
            Credential proven = provenCredential(current, secrets, fields.clientSecret());
            if (proven == null) {
                Map<String, String> refused = new LinkedHashMap<>(details);
                refused.put("reason", ProblemTypes.CREDENTIAL_BOUND);
                refused.put("secret_given", Boolean.toString(fields.clientSecret() != null));
                audit.record(actor, AuditActions.APP_UPDATE, "app", appId, "failure", refused);
                throw ApiException.conflict(ProblemTypes.CREDENTIAL_BOUND, "This app holds credentials, and the change of "
                        + String.join(", ", changedFields(details)) + " would send them to a new destination. "
                        + "Repeat the change with client_secret set to the app's active client secret (the other "
                        + "credentials are then deleted), or register a new app and add a new credential there.");
            }
            String removed = current.credentials().stream().map(Credential::id).filter(id -> !id.equals(proven.id()))
                .reduce((a, b) -> a + "," + b).orElse("");
            changed = changed.withCredentials(List.of(proven), changed.updatedAt());
            secrets = Map.of(proven.id(), secrets.get(proven.id()));
            details.put("proven_credential_id", proven.id());
            if (!removed.isEmpty()) {
                details.put("removed_credential_ids", removed);
            }
        }
        else if (fields.clientSecret() != null) {
            throw ApiException.invalidField("client_secret",
                    "is taken only with a change of tenant, client_id or an endpoint on an app with credentials");
        }
        save(changed, secrets, stored.version());
        Map<String, String> audited = new LinkedHashMap<>(details);
        if (!changed.allowedTenants().equals(current.allowedTenants())) {
            audited.put("allowed_tenants", String.join(" ", changed.allowedTenants()));
            audited.put("previous_allowed_tenants", String.join(" ", current.allowedTenants()));
        }
        audit.success(actor, AuditActions.APP_UPDATE, "app", appId, audited);
        return changed;
    }

    /** The fields that decide where credentials go, old and new, for those that change. */
    private static Map<String, String> destinationChanges(AppRegistration before, AppRegistration after) {
        Map<String, String> details = new LinkedHashMap<>();
        change(details, "tenant", before.tenant(), after.tenant());
        change(details, "client_id", before.clientId(), after.clientId());
        change(details, "authorize_endpoint", before.authorizeEndpoint(), after.authorizeEndpoint());
        change(details, "token_endpoint", before.tokenEndpoint(), after.tokenEndpoint());
        change(details, "userinfo_endpoint", before.userinfoEndpoint(), after.userinfoEndpoint());
        // The mail proxy sends mailboxes' access tokens to these servers.
        change(details, "imap_endpoint", before.imapServer(), after.imapServer());
        change(details, "smtp_endpoint", before.smtpServer(), after.smtpServer());
        return details;
    }

    private static void change(Map<String, String> details, String field, @Nullable Object before, @Nullable Object after) {
        if (!java.util.Objects.equals(before, after)) {
            details.put(field + "_old", before == null ? "" : before.toString());
            details.put(field + "_new", after == null ? "" : after.toString());
        }
    }

    private static List<String> changedFields(Map<String, String> details) {
        return details.keySet().stream().filter(key -> key.endsWith("_old")).map(key -> key.substring(0, key.length() - 4))
            .toList();
    }

    /**
     * The client-secret credential whose stored secret equals {@code given} (compared in constant
     * time): the active one when there is one, else any; {@code null} when none matches.
     */
    private static @Nullable Credential provenCredential(AppRegistration app, Map<String, String> secrets,
            @Nullable String given) {
        if (given == null || given.isEmpty()) {
            return null;
        }
        List<Credential> candidates = app.activeCredential().map(List::of).orElse(app.credentials());
        byte[] givenBytes = given.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (Credential candidate : candidates) {
            String stored = secrets.get(candidate.id());
            if (candidate.type() == CredentialType.CLIENT_SECRET && stored != null && java.security.MessageDigest
                .isEqual(stored.getBytes(java.nio.charset.StandardCharsets.UTF_8), givenBytes)) {
                return candidate;
            }
        }
        return null;
    }

    public void delete(String actor, String appId) {
        load(appId);
        apps.delete(appId);
        audit.success(actor, AuditActions.APP_DELETE, "app", appId, Map.of());
    }

    /** Adds a client secret as a pending credential. */
    public CredentialResult addClientSecret(String actor, String appId, @Nullable String value,
            @Nullable Instant expiresAt, @Nullable String description) {
        if (value == null || value.isBlank() || value.length() > 1024) {
            throw ApiException.invalidField("value", "must be the client secret, 1 to 1024 characters");
        }
        Instant now = clock.instant();
        if (expiresAt == null) {
            throw ApiException.invalidField("expires_at",
                    "is required: the date the provider shows for this secret (Entra ID: Certificates & secrets)");
        }
        if (!expiresAt.isAfter(now)) {
            throw ApiException.invalidField("expires_at", "is in the past: this secret no longer works");
        }
        StoredApp stored = load(appId);
        List<String> warnings = new ArrayList<>();
        Instant microsoftLimit = now.atZone(ZoneOffset.UTC).plusMonths(MICROSOFT_MAX_SECRET_MONTHS).toInstant();
        if (stored.app().provider() == ProviderKind.MICROSOFT && expiresAt.isAfter(microsoftLimit.plus(1, ChronoUnit.DAYS))) {
            warnings.add("expires_at is more than 24 months away, longer than Microsoft allows for a client secret: "
                    + "check the date shown in Entra ID");
        }
        Credential credential = new Credential(StoreIds.newId("cred"), CredentialType.CLIENT_SECRET,
                CredentialState.PENDING, description, now, expiresAt, null, null, null, null);
        AppRegistration app = addCredential(stored, credential, value);
        audit.success(actor, AuditActions.CREDENTIAL_CREATE, "credential", credential.id(),
                Map.of("app_id", appId, "type", "client_secret", "expires_at", expiresAt.toString()));
        return new CredentialResult(app, credential, warnings);
    }

    /** Generates a key pair and self-signed certificate as a pending credential. */
    public CredentialResult generateCertificate(String actor, String appId, @Nullable Integer validityDays,
            CertificateGenerator.@Nullable KeyAlgorithm algorithm, @Nullable String description) {
        int days = validityDays == null ? 365 : validityDays;
        if (days < 1 || days > 730) {
            throw ApiException.invalidField("validity_days", "must be between 1 and 730");
        }
        StoredApp stored = load(appId);
        if (stored.app().provider() != ProviderKind.MICROSOFT) {
            throw ApiException.invalidField("type", "certificates are for Microsoft apps; use a client_secret");
        }
        Instant now = clock.instant();
        CertificateGenerator.GeneratedCertificate generated = certificates.generate("Postern " + stored.app().name(),
                algorithm == null ? CertificateGenerator.KeyAlgorithm.RSA_3072 : algorithm,
                now.minus(5, ChronoUnit.MINUTES), now.plus(days, ChronoUnit.DAYS));
        Credential credential = new Credential(StoreIds.newId("cred"), CredentialType.CERTIFICATE,
                CredentialState.PENDING, description, now, generated.notAfter(), null, null, null, generated.info());
        AppRegistration app = addCredential(stored, credential, generated.privateKeyPem());
        audit.success(actor, AuditActions.CREDENTIAL_CREATE, "credential", credential.id(),
                Map.of("app_id", appId, "type", "certificate", "expires_at", generated.notAfter().toString(),
                        "sha1_thumbprint", generated.info().sha1Thumbprint()));
        return new CredentialResult(app, credential, List.of());
    }

    private AppRegistration addCredential(StoredApp stored, Credential credential, String secret) {
        List<Credential> credentials = new ArrayList<>(stored.app().credentials());
        credentials.add(credential);
        Map<String, String> secrets = new HashMap<>(stored.secrets());
        secrets.put(credential.id(), secret);
        AppRegistration app = stored.app().withCredentials(credentials, clock.instant());
        save(app, secrets, stored.version());
        return app;
    }

    /** Tests a credential with a live token request at the provider and records the outcome. */
    public Credential verify(String actor, String appId, String credentialId) {
        StoredApp stored = load(appId);
        Credential credential = credentialOf(stored.app(), credentialId);
        ProviderClient client = stored.providerClient(credential);
        CredentialCheck check = providers.forKind(client.kind()).verifyCredential(client);
        Credential.Verification verification = new Credential.Verification(clock.instant(), check.accepted(),
                check.error(), check.description());
        for (int attempt = 0;; attempt++) {
            // The outcome is metadata only: re-read and merge when someone changed the app meanwhile.
            StoredApp current = attempt == 0 ? stored : load(appId);
            List<Credential> credentials = new ArrayList<>();
            Credential updated = null;
            for (Credential c : current.app().credentials()) {
                if (c.id().equals(credentialId)) {
                    updated = c.withVerification(verification);
                    credentials.add(updated);
                }
                else {
                    credentials.add(c);
                }
            }
            if (updated == null) {
                throw ApiException.notFound("Credential " + credentialId);
            }
            try {
                apps.save(current.app().withCredentials(credentials, clock.instant()), current.secrets(),
                        current.version());
                Map<String, String> details = new LinkedHashMap<>();
                details.put("app_id", appId);
                if (check.error() != null) {
                    details.put("error", check.error());
                }
                audit.record(actor, AuditActions.CREDENTIAL_VERIFY, "credential", credentialId,
                        check.accepted() ? "success" : "failure", details);
                return updated;
            }
            catch (VersionConflictException ex) {
                if (attempt >= 3) {
                    throw ex;
                }
            }
        }
    }

    /**
     * Makes a credential the one in use; the previously active one is retired. Needs a
     * successful verification unless {@code force} with a {@code reason}.
     */
    public AppRegistration promote(String actor, String appId, String credentialId, boolean force,
            @Nullable String reason) {
        StoredApp stored = load(appId);
        Credential target = credentialOf(stored.app(), credentialId);
        Instant now = clock.instant();
        if (target.state() == CredentialState.ACTIVE) {
            return stored.app();
        }
        if (!target.isUnexpiredAt(now)) {
            throw ApiException.conflict(ProblemTypes.CREDENTIAL_EXPIRED, "This credential has expired; add a new one.");
        }
        boolean verified = target.verification() != null && target.verification().accepted();
        if (!verified && !force) {
            throw ApiException.conflict(ProblemTypes.CREDENTIAL_NOT_VERIFIED,
                    "Verify this credential successfully first, or promote with force and a reason.");
        }
        if (!verified && (reason == null || reason.isBlank())) {
            throw ApiException.invalidField("reason", "is required to promote an unverified credential");
        }
        String previous = null;
        List<Credential> credentials = new ArrayList<>();
        for (Credential c : stored.app().credentials()) {
            if (c.id().equals(credentialId)) {
                credentials.add(c.withState(CredentialState.ACTIVE, now, null));
            }
            else if (c.state() == CredentialState.ACTIVE) {
                previous = c.id();
                credentials.add(c.withState(CredentialState.RETIRED, c.promotedAt(), now));
            }
            else {
                credentials.add(c);
            }
        }
        AppRegistration app = stored.app().withCredentials(credentials, now);
        save(app, stored.secrets(), stored.version());
        Map<String, String> details = new LinkedHashMap<>();
        details.put("app_id", appId);
        if (previous != null) {
            details.put("retired_credential_id", previous);
        }
        if (!verified) {
            details.put("forced", "true");
            details.put("reason", reason.strip());
        }
        audit.success(actor, AuditActions.CREDENTIAL_PROMOTE, "credential", credentialId, details);
        return app;
    }

    /** Removes a credential and its secret; the active one cannot be removed. */
    public AppRegistration deleteCredential(String actor, String appId, String credentialId) {
        StoredApp stored = load(appId);
        Credential target = credentialOf(stored.app(), credentialId);
        if (target.state() == CredentialState.ACTIVE) {
            throw ApiException.conflict(ProblemTypes.CREDENTIAL_IN_USE,
                    "This credential is in use; promote another one before deleting it.");
        }
        List<Credential> credentials = stored.app().credentials().stream().filter(c -> !c.id().equals(credentialId)).toList();
        Map<String, String> secrets = new HashMap<>(stored.secrets());
        secrets.remove(credentialId);
        AppRegistration app = stored.app().withCredentials(credentials, clock.instant());
        save(app, secrets, stored.version());
        audit.success(actor, AuditActions.CREDENTIAL_DELETE, "credential", credentialId, Map.of("app_id", appId));
        return app;
    }

    private StoredApp load(String appId) {
        return apps.find(appId).orElseThrow(() -> ApiException.notFound("App " + appId));
    }

    private static Credential credentialOf(AppRegistration app, String credentialId) {
        return app.credential(credentialId).orElseThrow(() -> ApiException.notFound("Credential " + credentialId));
    }

    private void save(AppRegistration app, Map<String, String> secrets, long version) {
        try {
            apps.save(app, secrets, version);
        }
        catch (VersionConflictException ex) {
            throw ApiException.conflict(ProblemTypes.CONFLICT,
                    "The app was changed by another request at the same time; read it again and retry.");
        }
    }

    private AppRegistration validated(AppRegistration app) {
        if (app.name().isBlank() || app.name().length() > 100) {
            throw ApiException.invalidField("name", "must be 1 to 100 characters");
        }
        if (app.scopes().isEmpty() || app.scopes().size() > 50
                || app.scopes().stream().anyMatch(scope -> scope == null || !SCOPE.matcher(scope).matches())) {
            throw ApiException.invalidField("scopes", "must be 1 to 50 scope tokens without spaces or quotes");
        }
        switch (app.provider()) {
            case MICROSOFT -> {
                String tenant = app.tenant();
                if (tenant == null || !(GUID.matcher(tenant).matches() || TENANT_DOMAIN.matcher(tenant).matches()
                        || List.of("organizations", "common").contains(tenant))) {
                    throw ApiException.invalidField("tenant",
                            "must be the directory (tenant) id, a verified domain, or 'organizations'");
                }
                if (!GUID.matcher(app.clientId()).matches()) {
                    throw ApiException.invalidField("client_id", "must be the application (client) id, a GUID");
                }
                requireNone(app.authorizeEndpoint(), "authorize_endpoint");
                requireNone(app.tokenEndpoint(), "token_endpoint");
                if (app.allowedTenants().size() > 100
                        || app.allowedTenants().stream().anyMatch(id -> !GUID.matcher(id).matches())) {
                    throw ApiException.invalidField("allowed_tenants", "must be up to 100 directory (tenant) ids, GUIDs");
                }
                if (app.multiTenant() && app.allowedTenants().isEmpty()) {
                    throw ApiException.invalidField("allowed_tenants", "is required when tenant is '" + tenant
                            + "': list the directory (tenant) ids whose mailboxes may connect");
                }
            }
            case GOOGLE -> {
                requireClientId(app);
                requireNone(app.tenant(), "tenant");
                requireNoTenantList(app);
                requireNone(app.authorizeEndpoint(), "authorize_endpoint");
                requireNone(app.tokenEndpoint(), "token_endpoint");
            }
            case GENERIC -> {
                requireClientId(app);
                requireNone(app.tenant(), "tenant");
                requireNoTenantList(app);
                requireEndpoint(app.authorizeEndpoint(), "authorize_endpoint", true);
                requireEndpoint(app.tokenEndpoint(), "token_endpoint", true);
                requireEndpoint(app.userinfoEndpoint(), "userinfo_endpoint", false);
            }
        }
        requireMailServer(app.imapEndpoint(), "imap_endpoint");
        requireMailServer(app.smtpEndpoint(), "smtp_endpoint");
        return app;
    }

    private static void requireClientId(AppRegistration app) {
        if (app.clientId().isBlank() || app.clientId().length() > 255 || app.clientId().chars().anyMatch(Character::isWhitespace)) {
            throw ApiException.invalidField("client_id", "must be the client id, 1 to 255 characters without spaces");
        }
    }

    private static void requireNoTenantList(AppRegistration app) {
        if (!app.allowedTenants().isEmpty()) {
            throw ApiException.invalidField("allowed_tenants", "does not apply to this provider");
        }
    }

    /** Tenant ids as stored: trimmed, lower case, each once; {@code null} stays {@code null} (not given). */
    private static @Nullable List<String> tenantIds(@Nullable List<String> ids) {
        return ids == null ? null
                : ids.stream().map(id -> id == null ? "" : id.strip().toLowerCase(Locale.ROOT)).distinct().toList();
    }

    private static void requireNone(@Nullable Object value, String field) {
        if (value != null) {
            throw ApiException.invalidField(field, "does not apply to this provider");
        }
    }

    private void requireEndpoint(@Nullable URI endpoint, String field, boolean required) {
        if (endpoint == null) {
            if (required) {
                throw ApiException.invalidField(field, "is required for a generic provider");
            }
            return;
        }
        if (endpoint.getHost() == null || endpoint.getUserInfo() != null || endpoint.getFragment() != null) {
            throw ApiException.invalidField(field, "must be an https URL without credentials or fragment");
        }
        try {
            outbound.checkStored(endpoint);
        }
        catch (EndpointNotAllowedException ex) {
            throw notAllowed(field, "a public https destination", ex);
        }
    }

    /** A mail server must be a destination the outbound policy allows, as the OAuth endpoints must. */
    private void requireMailServer(@Nullable URI server, String field) {
        if (server == null) {
            return;
        }
        try {
            outbound.checkStored(URI.create("https://" + server.getRawAuthority()));
        }
        catch (EndpointNotAllowedException ex) {
            throw notAllowed(field, "a public destination", ex);
        }
    }

    private static ApiException notAllowed(String field, String what, EndpointNotAllowedException ex) {
        return new ApiException(HttpStatus.BAD_REQUEST, ProblemTypes.ENDPOINT_NOT_ALLOWED, "Endpoint not allowed",
                "The " + field + " is not " + what + ": rule '" + ex.rule().code() + "' (" + ex.rule().description() + ").",
                Map.of("errors", Map.of(field, ex.getMessage()), "rule", ex.rule().code()), Map.of());
    }

    private static String orEmpty(@Nullable String value) {
        return value == null ? "" : value.strip();
    }

    private static <T> T pick(@Nullable T given, T current) {
        return given == null ? current : given;
    }
}
