package dev.postern.broker.accounts;

import java.time.Clock;

import org.springframework.context.ApplicationEventPublisher;

import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.store.SecretStore;

/** The accounts feature of one replica on a store, built without Spring for the unit tests of other features. */
public final class TestAccounts {

    private TestAccounts() {
    }

    /**
     * An {@link AccountService} with its own caches, key directory and indexes over {@code store}:
     * two built on one store are two replicas. Its events reach its cache, as in the broker, then {@code events}.
     */
    public static AccountService service(SecretStore store, Clock clock, AuditLog audit, ApplicationEventPublisher events) {
        KeyDirectory directory = new KeyDirectory(store);
        AccountIndex index = new AccountIndex();
        AccountCache cache = new AccountCache(clock);
        ApplicationEventPublisher toCacheFirst = event -> {
            if (event instanceof AccountChangedEvent changed) {
                cache.onAccountChanged(changed);
            }
            events.publishEvent(event);
        };
        return new AccountService(new AccountRepository(directory, index), new MailboxIndex(directory), cache, index, audit,
                clock, toCacheFirst);
    }

    /** The account documents of {@code store} as a replica of their own reads and writes them. */
    public static AccountRepository repository(SecretStore store) {
        return new AccountRepository(new KeyDirectory(store), new AccountIndex());
    }
}
