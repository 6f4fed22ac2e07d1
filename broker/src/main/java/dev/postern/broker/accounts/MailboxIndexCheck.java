package dev.postern.broker.accounts;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Repairs the mailbox index ({@link MailboxIndex}) in the background: at start-up and then every
 * {@code postern.accounts.index-check-interval}, every account is read and its entry added where
 * missing (an account written by a version before the index, or a store restored from an older
 * backup). Lookups never fall back to reading every account: until this check has run, a mailbox
 * missing from the index is "no such mailbox". Entries that name no account are left alone: they
 * are harmless and a concurrent connect may be about to write that account.
 */
@Component
class MailboxIndexCheck {

    private static final Logger log = LoggerFactory.getLogger(MailboxIndexCheck.class);

    private final AccountRepository accounts;

    private final MailboxIndex index;

    private final AccountService service;

    MailboxIndexCheck(AccountRepository accounts, MailboxIndex index, AccountService service) {
        this.accounts = accounts;
        this.index = index;
        this.service = service;
    }

    @Scheduled(fixedDelayString = "${postern.accounts.index-check-interval:24h}",
            initialDelayString = "${postern.accounts.index-check-initial-delay:0s}")
    void scheduledCheck() {
        try {
            int repaired = check();
            if (repaired > 0) {
                log.warn("The mailbox index missed {} mailbox addresses; added", repaired);
            }
        }
        catch (RuntimeException ex) {
            log.warn("Mailbox index check failed, the next one retries: {}", ex.toString());
        }
    }

    /** Adds the missing entries of one address; whether there were any. */
    private boolean repair(String address, Map<String, String> expected) {
        Map<String, String> indexed = index.find(address).accounts();
        boolean missing = false;
        for (Map.Entry<String, String> account : expected.entrySet()) {
            if (!account.getValue().equals(indexed.get(account.getKey()))) {
                index.add(address, account.getKey(), account.getValue());
                missing = true;
            }
        }
        if (missing) {
            service.forgetMailbox(address); // a miss cached before the repair
        }
        return missing;
    }

    /** Adds every missing entry; returns how many addresses needed one. */
    int check() {
        Map<String, Map<String, String>> byAddress = new HashMap<>();
        for (Account account : accounts.findAll()) {
            byAddress.computeIfAbsent(account.mailbox(), address -> new HashMap<>()).put(account.id(), account.appId());
        }
        List<Map.Entry<String, Map<String, String>>> addresses = new ArrayList<>(byAddress.entrySet());
        int repaired = 0;
        try (ExecutorService checkers = Executors.newVirtualThreadPerTaskExecutor()) {
            // 32 addresses at a time, like the account reads above.
            for (int next = 0; next < addresses.size(); next += 32) {
                List<Future<Boolean>> batch = new ArrayList<>();
                for (Map.Entry<String, Map<String, String>> address : addresses.subList(next,
                        Math.min(addresses.size(), next + 32))) {
                    batch.add(checkers.submit(() -> repair(address.getKey(), address.getValue())));
                }
                for (Future<Boolean> done : batch) {
                    if (done.get()) {
                        repaired++;
                    }
                }
            }
        }
        catch (ExecutionException ex) {
            throw ex.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(ex.getCause());
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
        return repaired;
    }
}
