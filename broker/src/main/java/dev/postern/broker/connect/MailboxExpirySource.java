package dev.postern.broker.connect;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.postern.broker.access.Actors;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.expiry.ExpiringObject;
import dev.postern.broker.expiry.ExpiringObjectSource;

/**
 * Mailboxes for the expiry scan: a refresh token dies when unused for the provider's idle
 * lifetime (Microsoft: 90 days), so it expires at {@code last_refresh_at} plus that. A mailbox
 * whose owner must reconnect carries a fresh connect link for the alert, made once per mailbox
 * and reused while it is valid.
 */
@Component
class MailboxExpirySource implements ExpiringObjectSource {

    private static final Logger log = LoggerFactory.getLogger(MailboxExpirySource.class);

    private static final Duration RECONNECT_LINK_LIFETIME = Duration.ofDays(7);

    private final AccountService accounts;

    private final ConnectService connect;

    private final MailboxProperties properties;

    private final Clock clock;

    /** The reconnect link made per account; its URL exists only here, in memory. */
    private final Map<String, ConnectService.IssuedLink> reconnectLinks = new ConcurrentHashMap<>();

    MailboxExpirySource(AccountService accounts, ConnectService connect, MailboxProperties properties, Clock clock) {
        this.accounts = accounts;
        this.connect = connect;
        this.properties = properties;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "mailboxes";
    }

    @Override
    public List<ExpiringObject> expiringObjects() {
        Instant now = clock.instant();
        List<ExpiringObject> objects = new ArrayList<>();
        for (Account account : accounts.all()) {
            if (account.status() == Account.Status.REVOKED) {
                continue;
            }
            Instant lastUse = account.lastRefreshAt() != null ? account.lastRefreshAt() : account.connectedAt();
            boolean reauth = account.status() == Account.Status.REAUTH_REQUIRED;
            objects.add(new ExpiringObject(ExpiringObject.Kind.MAILBOX, account.id(), account.appId(), account.mailbox(),
                    lastUse.plus(properties.idleLifetime(account.provider())),
                    reauth ? ExpiringObject.Hint.REAUTH_REQUIRED : ExpiringObject.Hint.IN_USE, true,
                    reauth ? reconnectUrl(account, now) : null));
        }
        return objects;
    }

    private URI reconnectUrl(Account account, Instant now) {
        ConnectService.IssuedLink link = reconnectLinks.get(account.id());
        if (link == null || !link.link().expiresAt().isAfter(now.plus(Duration.ofDays(1))) || !connect.stillOpen(link.link())) {
            try {
                link = connect.createLink(Actors.SYSTEM, account.appId(), account.mailbox(), RECONNECT_LINK_LIFETIME);
                reconnectLinks.put(account.id(), link);
            }
            catch (RuntimeException ex) {
                log.warn("Could not make a reconnect link for account {}: {}", account.id(), ex.getMessage());
                return null;
            }
        }
        return link.url();
    }
}
