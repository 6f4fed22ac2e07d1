package dev.postern.broker.accounts;

import java.util.HashMap;
import java.util.Map;

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

    /** Adds every missing entry; returns how many addresses needed one. */
    int check() {
        Map<String, Map<String, String>> byAddress = new HashMap<>();
        for (Account account : accounts.findAll()) {
            byAddress.computeIfAbsent(account.mailbox(), address -> new HashMap<>()).put(account.id(), account.appId());
        }
        int repaired = 0;
        for (Map.Entry<String, Map<String, String>> address : byAddress.entrySet()) {
            Map<String, String> indexed = index.find(address.getKey()).accounts();
            boolean missing = false;
            for (Map.Entry<String, String> account : address.getValue().entrySet()) {
                if (!account.getValue().equals(indexed.get(account.getKey()))) {
                    index.add(address.getKey(), account.getKey(), account.getValue());
                    missing = true;
                }
            }
            if (missing) {
                service.forgetMailbox(address.getKey()); // a miss cached before the repair
                repaired++;
            }
        }
        return repaired;
    }
}
