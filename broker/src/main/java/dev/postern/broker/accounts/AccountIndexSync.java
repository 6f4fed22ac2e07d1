package dev.postern.broker.accounts;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.postern.broker.store.KeyDirectory;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.StoreCollection;

/**
 * Keeps the {@link AccountIndex} whole, in the background, every {@code postern.store.key-refresh}:
 * until it is complete, reads every account once (joining the start-up expiry scan's read when that
 * is under way, so the collection is read once); after, reads only the accounts whose ids the key
 * directory knows and the index does not (created by another replica), 100 at a time.
 */
@Component
class AccountIndexSync {

    private static final Logger log = LoggerFactory.getLogger(AccountIndexSync.class);

    private static final int BATCH = 100;

    private final AccountRepository accounts;

    private final AccountIndex index;

    private final KeyDirectory keys;

    AccountIndexSync(AccountRepository accounts, AccountIndex index, KeyDirectory keys) {
        this.accounts = accounts;
        this.index = index;
        this.keys = keys;
    }

    @Scheduled(fixedDelayString = "${postern.store.key-refresh:30s}", initialDelayString = "${postern.store.key-refresh:30s}")
    void scheduledSync() {
        try {
            sync();
        }
        catch (RuntimeException ex) {
            log.warn("Updating the account index failed, the next run retries: {}", ex.toString());
        }
    }

    /** Returns how many accounts were read. */
    int sync() {
        if (!index.complete()) {
            return accounts.findAll().size();
        }
        int read = 0;
        List<String> missing = new ArrayList<>(BATCH);
        for (Iterator<String> ids = keys.keysAfter(SecretPath.of(StoreCollection.ACCOUNTS), null); ids.hasNext();) {
            String id = ids.next();
            if (!index.contains(id)) {
                missing.add(id);
            }
            if (missing.size() == BATCH || !ids.hasNext() && !missing.isEmpty()) {
                accounts.findAll(missing);
                read += missing.size();
                missing.clear();
            }
        }
        return read;
    }
}
