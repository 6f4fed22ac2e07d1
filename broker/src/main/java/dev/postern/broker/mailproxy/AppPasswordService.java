package dev.postern.broker.mailproxy;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.jspecify.annotations.Nullable;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Service;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.access.Actors;
import dev.postern.broker.access.ApiKeys;
import dev.postern.broker.accounts.AccountChangedEvent;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;

/**
 * App passwords: a random password per mailbox and mail program, shown once, kept as a SHA-256
 * hash (256 random bits need no slow hash), found by an id derived from that hash, revoked by
 * deleting it. The mail proxy accepts one as the password of its mailbox.
 */
@Service
public class AppPasswordService {

    /** Every app password starts with this, so a leaked one is recognisable in a secret scan. */
    static final String PREFIX = "ppw_";

    /** How many app passwords one mailbox may have: one per mail program, not one per login. */
    static final int MAX_PER_MAILBOX = 20;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final AppPasswordRepository passwords;

    private final AccountService accounts;

    private final AuditLog audit;

    private final Clock clock;

    private final ApplicationEventPublisher events;

    AppPasswordService(AppPasswordRepository passwords, AccountService accounts, AuditLog audit, Clock clock,
            ApplicationEventPublisher events) {
        this.passwords = passwords;
        this.accounts = accounts;
        this.audit = audit;
        this.clock = clock;
        this.events = events;
    }

    /** A new app password with its secret, which is not kept. */
    public record Created(AppPassword appPassword, String password) {

        @Override
        public String toString() {
            return "Created[appPassword=" + appPassword + ", password=(redacted)]";
        }
    }

    /** Makes an app password for mailbox {@code accountId}. */
    public Created create(String actor, String accountId, @Nullable String name, @Nullable Instant expiresAt) {
        accounts.get(accountId);
        Instant now = clock.instant();
        if (expiresAt != null && !expiresAt.isAfter(now)) {
            throw ApiException.invalidField("expires_at", "must be in the future");
        }
        if (passwords.findAll(accountId).size() >= MAX_PER_MAILBOX) {
            throw ApiException.conflict(ProblemTypes.TOO_MANY_APP_PASSWORDS, "This mailbox has " + MAX_PER_MAILBOX
                    + " app passwords already; revoke one it no longer needs first.");
        }
        String password = PREFIX + randomSecret();
        String hash = ApiKeys.hash(password);
        AppPassword created = new AppPassword(idFor(hash), accountId, name, now, expiresAt);
        passwords.create(created, hash);
        Map<String, String> details = new LinkedHashMap<>();
        details.put("account_id", accountId);
        if (name != null) {
            details.put("name", name);
        }
        if (expiresAt != null) {
            details.put("expires_at", expiresAt.toString());
        }
        audit.success(actor, AuditActions.APP_PASSWORD_CREATE, "app_password", created.id(), details);
        return new Created(created, password);
    }

    /** The app passwords of mailbox {@code accountId}, newest first, without secrets. */
    public List<AppPassword> list(String accountId) {
        accounts.get(accountId);
        return passwords.findAll(accountId)
            .stream()
            .sorted(Comparator.comparing(AppPassword::createdAt).reversed())
            .toList();
    }

    /**
     * Revokes app password {@code id} of mailbox {@code accountId}: it stops working at once, and the
     * mail proxy ends the sessions on this replica that logged in with it.
     */
    public void revoke(String actor, String accountId, String id) {
        AppPassword revoked = passwords.find(accountId, id)
            .orElseThrow(() -> ApiException.notFound("App password " + id))
            .password();
        passwords.delete(accountId, revoked.id());
        audit.success(actor, AuditActions.APP_PASSWORD_DELETE, "app_password", revoked.id(), Map.of("account_id", accountId));
        events.publishEvent(new AppPasswordRevokedEvent(accountId, revoked.id()));
    }

    /**
     * Deletes every app password of a mailbox an admin revoked. A revoke is how a mailbox is handed to
     * another identity: the programs of the previous holder must not log in again once the next
     * one connects. A revoke that fails here can be repeated, and deletes the rest.
     */
    @EventListener
    void onAccountChanged(AccountChangedEvent event) {
        if (event.change() != AccountChangedEvent.Change.REVOKED) {
            return;
        }
        String accountId = event.account().id();
        for (AppPassword password : passwords.findAll(accountId)) {
            passwords.delete(accountId, password.id());
            audit.success(Actors.SYSTEM, AuditActions.APP_PASSWORD_DELETE, "app_password", password.id(),
                    Map.of("account_id", accountId, "reason", "account_revoked"));
        }
    }

    /** The app password {@code password} of mailbox {@code accountId}, when it is one and unexpired. */
    public Optional<AppPassword> verify(String accountId, String password) {
        if (!password.startsWith(PREFIX) || password.length() > 128) {
            return Optional.empty();
        }
        String hash = ApiKeys.hash(password);
        Instant now = clock.instant();
        return passwords.find(accountId, idFor(hash))
            .filter(stored -> ApiKeys.hashesMatch(stored.hash(), hash))
            .map(AppPasswordRepository.StoredAppPassword::password)
            .filter(found -> found.isUsableAt(now));
    }

    private static String idFor(String hash) {
        return "apw_" + hash.substring(0, 16).toLowerCase(Locale.ROOT);
    }

    private static String randomSecret() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
