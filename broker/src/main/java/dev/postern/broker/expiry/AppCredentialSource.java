package dev.postern.broker.expiry;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository;
import dev.postern.broker.apps.AppRepository.StoredApp;
import dev.postern.broker.apps.Credential;
import dev.postern.broker.apps.Credential.CredentialState;
import dev.postern.broker.apps.Credential.CredentialType;
import dev.postern.broker.expiry.ExpiringObject.Hint;
import dev.postern.broker.expiry.ExpiringObject.Kind;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.microsoft.GraphApplicationReader;
import dev.postern.broker.providers.microsoft.GraphApplicationReader.GraphCredential;

/**
 * Lists every app's client secrets and certificates and, for Microsoft apps with Graph discovery,
 * the credentials Entra ID has that were never entered in Postern ({@code managed = false}).
 */
public class AppCredentialSource implements ExpiringObjectSource {

    private static final Logger log = LoggerFactory.getLogger(AppCredentialSource.class);

    /** Graph rounds end dates and the portal shows minutes: a Postern date this close is the same secret. */
    static final Duration SAME_END_DATE = Duration.ofMinutes(1);

    private final AppRepository apps;

    private final ExpiryProperties.GraphDiscovery discovery;

    private final @Nullable GraphApplicationReader graph;

    private final Clock clock;

    /** Graph's answer per app id, kept between scans because Graph is remote and rate-limited. */
    private final Map<String, GraphRead> graphReads = new ConcurrentHashMap<>();

    private record GraphRead(Instant at, List<GraphCredential> credentials, @Nullable String error) {
    }

    /**
     * Each app's name as the last listing read it, so that {@code GET /v1/expiry} names the apps of
     * a page without reading them again (the listing reads every app anyway).
     */
    private volatile Map<String, String> appNames = Map.of();

    public AppCredentialSource(AppRepository apps, ExpiryProperties.GraphDiscovery discovery,
            @Nullable GraphApplicationReader graph, Clock clock) {
        this.apps = apps;
        this.discovery = discovery;
        this.graph = graph;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "app-credentials";
    }

    /** Reads Graph for each app it applies to whose last read is older than the cache time. */
    @Override
    public void refresh() {
        if (graph == null || !discovery.enabled()) {
            return;
        }
        Instant now = clock.instant();
        for (AppRegistration app : apps.findAll()) {
            if (!isMicrosoft(app) || !discovery.appliesTo(app.id())) {
                continue;
            }
            GraphRead last = graphReads.get(app.id());
            if (last != null && last.at().plus(discovery.cacheTtl()).isAfter(now)) {
                continue;
            }
            apps.find(app.id()).ifPresent(stored -> graphReads.put(app.id(), readGraph(stored, now)));
        }
    }

    private GraphRead readGraph(StoredApp stored, Instant now) {
        try {
            ProviderClient app = stored.activeProviderClient()
                .orElseThrow(() -> new GraphApplicationReader.GraphException("the app has no active credential"));
            return new GraphRead(now, graph.read(app), null);
        }
        catch (GraphApplicationReader.GraphException | IllegalStateException ex) {
            // IllegalStateException: the active credential has no stored secret.
            log.warn("Graph discovery for app {} failed: {}", stored.app().id(), ex.getMessage());
            GraphRead last = graphReads.get(stored.app().id());
            // Keep what was found before: a Graph outage must not make unmanaged secrets vanish.
            return new GraphRead(now, last == null ? List.of() : last.credentials(), ex.getMessage());
        }
    }

    /** The last Graph failure per app id, for {@code GET /v1/expiry}. */
    public Map<String, String> discoveryErrors() {
        Map<String, String> errors = new java.util.TreeMap<>();
        graphReads.forEach((appId, read) -> {
            if (read.error() != null) {
                errors.put(appId, read.error());
            }
        });
        return errors;
    }

    /** The app's name as of the last listing, or {@code null} for an app it did not see. */
    @Override
    public @Nullable String appName(String appId) {
        return appNames.get(appId);
    }

    @Override
    public List<ExpiringObject> expiringObjects() {
        List<ExpiringObject> objects = new ArrayList<>();
        Map<String, String> names = new HashMap<>();
        for (AppRegistration app : apps.findAll()) {
            names.put(app.id(), app.name());
            boolean hasActive = app.activeCredential().isPresent();
            for (Credential credential : app.credentials()) {
                objects.add(new ExpiringObject(kindOf(credential), credential.id(), app.id(), label(app, credential),
                        credential.expiresAt(), hintOf(credential, hasActive), true, null));
            }
            GraphRead read = discovery.appliesTo(app.id()) ? graphReads.get(app.id()) : null;
            if (read != null) {
                objects.addAll(unmanaged(app, read.credentials()));
            }
        }
        appNames = Map.copyOf(names);
        return objects;
    }

    private static List<ExpiringObject> unmanaged(AppRegistration app, List<GraphCredential> found) {
        List<ExpiringObject> objects = new ArrayList<>();
        Set<String> matched = new HashSet<>();
        for (GraphCredential entra : found) {
            Credential known = app.credentials()
                .stream()
                .filter(c -> !matched.contains(c.id()) && sameCredential(c, entra))
                .findFirst()
                .orElse(null);
            if (known != null) {
                matched.add(known.id());
                continue;
            }
            String name = entra.displayName() == null || entra.displayName().isBlank() ? "(no description)"
                    : entra.displayName();
            // The hint (a secret's first characters) is left out on purpose: no part of a secret goes into an alert.
            String label = (entra.certificate() ? "certificate " : "client secret ") + "'" + name
                    + "' in Entra ID, not managed by Postern (key id " + entra.keyId() + ")";
            objects.add(new ExpiringObject(entra.certificate() ? Kind.CERTIFICATE : Kind.CLIENT_SECRET,
                    "entra_" + entra.keyId().toLowerCase(Locale.ROOT), app.id(), label, entra.endDateTime(),
                    Hint.STANDBY, false, null));
        }
        return objects;
    }

    static boolean sameCredential(Credential credential, GraphCredential entra) {
        if (entra.certificate() != (credential.type() == CredentialType.CERTIFICATE)) {
            return false;
        }
        if (entra.certificate() && credential.certificate() != null && entra.customKeyIdentifier() != null) {
            return thumbprintMatches(credential.certificate().sha1Thumbprint(), entra.customKeyIdentifier());
        }
        return Duration.between(credential.expiresAt(), entra.endDateTime()).abs().compareTo(SAME_END_DATE) <= 0;
    }

    /**
     * Graph types {@code customKeyIdentifier} as binary (base64 in JSON) while the portal puts the
     * thumbprint's hex text there: accept the hex itself, base64 of the thumbprint's bytes, and
     * base64 of its hex text.
     */
    static boolean thumbprintMatches(String sha1HexUpper, String customKeyIdentifier) {
        String thumbprint = sha1HexUpper.toUpperCase(Locale.ROOT);
        if (customKeyIdentifier.equalsIgnoreCase(thumbprint)) {
            return true;
        }
        try {
            byte[] decoded = Base64.getDecoder().decode(customKeyIdentifier);
            return HexFormat.of().withUpperCase().formatHex(decoded).equals(thumbprint)
                    || new String(decoded, StandardCharsets.US_ASCII).equalsIgnoreCase(thumbprint);
        }
        catch (IllegalArgumentException ex) {
            return false;
        }
    }

    private static Kind kindOf(Credential credential) {
        return credential.type() == CredentialType.CERTIFICATE ? Kind.CERTIFICATE : Kind.CLIENT_SECRET;
    }

    private static Hint hintOf(Credential credential, boolean appHasActive) {
        return switch (credential.state()) {
            case ACTIVE -> Hint.IN_USE;
            case PENDING -> Hint.STANDBY;
            // promote() retires the previous one, so a retired credential normally has a successor.
            case RETIRED -> appHasActive ? Hint.SUPERSEDED : Hint.STANDBY;
        };
    }

    private static String label(AppRegistration app, Credential credential) {
        String what = credential.type() == CredentialType.CERTIFICATE ? "certificate" : "client secret";
        String state = credential.state().name().toLowerCase(Locale.ROOT);
        String description = credential.description() == null || credential.description().isBlank() ? ""
                : " '" + credential.description() + "'";
        return state + " " + what + description + " of app '" + app.name() + "' (" + credential.id() + ")";
    }

    /** Avoids naming the providers package's enum: expiry must not depend on providers. */
    static boolean isMicrosoft(AppRegistration app) {
        return "MICROSOFT".equals(String.valueOf((Object) app.provider()));
    }

    static boolean isActive(Credential credential) {
        return credential.state() == CredentialState.ACTIVE;
    }
}
