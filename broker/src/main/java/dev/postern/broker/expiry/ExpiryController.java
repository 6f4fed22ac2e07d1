package dev.postern.broker.expiry;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import jakarta.servlet.http.HttpServletRequest;

import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.Role;
import dev.postern.broker.access.Actors;
import dev.postern.broker.expiry.AlertStateRepository.AppAlerts;
import dev.postern.broker.expiry.AlertStateRepository.FiredObject;

/** Every watched credential and mailbox with its expiry and state, soonest first. */
@RestController
@RequestMapping("/v1/expiry")
class ExpiryController {

    private final ExpiryScanner scanner;

    private final FailedNotifications failures;

    private final List<AppCredentialSource> appSources;

    ExpiryController(ExpiryScanner scanner, FailedNotifications failures, List<AppCredentialSource> appSources) {
        this.scanner = scanner;
        this.failures = failures;
        this.appSources = appSources;
    }

    /**
     * One watched object.
     *
     * @param kind {@code client_secret}, {@code certificate} or {@code mailbox}
     * @param id its id
     * @param appId its app
     * @param label a human name
     * @param expiresAt when it expires
     * @param daysLeft whole days left, negative once expired
     * @param state {@code ok}, {@code warning}, {@code expired} or {@code reauth_required}
     * @param usage {@code in_use}, {@code standby}, {@code superseded} or {@code reauth_required}
     * @param managed {@code false} when found only in Entra ID
     * @param firedThresholds the alerts already sent for it
     * @param incidentId the app's open incident, or {@code null}
     * @param reconnectUrl a mailbox's reconnect link, for an admin only (a monitor sees the
     *        {@code reauth_required} state, not the link: it is a bearer capability), else {@code null}
     */
    record Item(String kind, String id, String appId, String label, Instant expiresAt, long daysLeft, String state,
            String usage, boolean managed, List<String> firedThresholds, @Nullable String incidentId,
            @Nullable URI reconnectUrl) {
    }

    /**
     * The answer.
     *
     * @param evaluatedAt when the states were judged
     * @param items every object, soonest first
     * @param failedNotifications notifications given up after every try, oldest first
     * @param discoveryErrors the last Graph discovery failure per app id
     */
    record ExpiryView(Instant evaluatedAt, List<Item> items, List<FailedNotifications.Failure> failedNotifications,
            Map<String, String> discoveryErrors) {
    }

    @GetMapping
    ExpiryView list(HttpServletRequest request) {
        boolean admin = Actors.principal(request).role() == Role.ADMIN;
        ExpiryScanner.Snapshot snapshot = scanner.evaluate();
        Set<String> appIds = new TreeSet<>();
        snapshot.objects().forEach(o -> appIds.add(o.object().appId()));
        Map<String, AppAlerts> alerts = scanner.alertStates(appIds);
        List<Item> items = new ArrayList<>();
        for (ObjectExpiry expiry : snapshot.objects()) {
            ExpiringObject object = expiry.object();
            AppAlerts appAlerts = alerts.get(object.appId());
            FiredObject fired = appAlerts == null ? null : appAlerts.objects().get(object.id());
            items.add(new Item(object.kind().value(), object.id(), object.appId(), object.label(), object.expiresAt(),
                    expiry.daysLeft(), expiry.state().value(), object.hint().name().toLowerCase(Locale.ROOT),
                    object.managed(), fired == null ? List.of() : List.copyOf(fired.fired()),
                    appAlerts == null ? null : appAlerts.incidentId(), admin ? object.reconnectUrl() : null));
        }
        Map<String, String> discoveryErrors = new java.util.TreeMap<>();
        appSources.forEach(source -> discoveryErrors.putAll(source.discoveryErrors()));
        return new ExpiryView(snapshot.at(), items, failures.list(), discoveryErrors);
    }
}
