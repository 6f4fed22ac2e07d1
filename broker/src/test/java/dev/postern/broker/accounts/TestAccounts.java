package dev.postern.broker.accounts;

import java.time.Clock;

import org.springframework.context.ApplicationEventPublisher;

import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.store.SecretStore;

/** The accounts feature of one replica on a store, built without Spring for the unit tests of other features. */
public final class TestAccounts {

    private TestAccounts() {
    }

    /**
     * An {@link AccountService} with its own cache and mailbox index over {@code store}: two built
     * on one store are two replicas. Its events reach its cache, as in the broker, then {@code events}.
     */
    public static AccountService service(SecretStore store, Clock clock, AuditLog audit, ApplicationEventPublisher events) {
        AccountCache cache = new AccountCache(clock);
        return new AccountService(new AccountRepository(store), new MailboxIndex(store), cache, audit, clock, event -> {
            if (event instanceof AccountChangedEvent changed) {
                cache.onAccountChanged(changed);
            }
            events.publishEvent(event);
        });
    }
}
