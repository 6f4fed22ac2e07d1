package dev.postern.broker.accounts;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * What the filters of {@code GET /v1/accounts} look at, for every account, in memory and in id
 * order: its mailbox (lower case), app and status, so a filtered page reads only the accounts that
 * match instead of reading accounts until enough match (30,000 reads, 68 s at 30,000 mailboxes,
 * docs/performance.md).
 * <ul>
 * <li>Fed by {@link AccountRepository} with every account this replica reads or writes, with the
 * store version, so an older read never overwrites what a newer write set.
 * <li>{@link #complete() Complete} once one read of every account has finished
 * ({@link AccountRepository#findAll}: the expiry scan at start-up, or {@link AccountIndexSync});
 * until then a filtered page reads documents as before.
 * <li>Accounts another replica creates are read when the key directory's refresh shows their ids
 * ({@link AccountIndexSync}); a status another replica changes shows when this replica next reads
 * the account (a token request, a page, the hourly expiry scan).
 * </ul>
 * A page checks the filter again on the documents it reads, so an entry that is out of date never
 * puts a non-matching account on a page; it can only leave out, until the next read, an account
 * whose status another replica changed to the one asked for.
 */
@Component
class AccountIndex {

    /**
     * One account as the filters see it.
     *
     * @param mailbox the address, lower case
     * @param appId the app, one shared instance per app id
     * @param status the status as last read or written here
     * @param version the store version it was read or written at
     */
    record Entry(String mailbox, String appId, Account.Status status, long version) {
    }

    private final ConcurrentSkipListMap<String, Entry> byId = new ConcurrentSkipListMap<>();

    /**
     * The ids of each mailbox address (lower case) among the accounts here. An account's address
     * never changes (a connect of another address is another account), so ids are only added.
     */
    private final ConcurrentHashMap<String, List<String>> idsByMailbox = new ConcurrentHashMap<>();

    private volatile boolean complete;

    /** Records {@code account} as read or written at {@code version}, unless a later version is known. */
    void seen(Account account, long version) {
        // One instance of each app id, as for cached accounts (AccountRepository): thousands of accounts share an app.
        String appId = account.appId().intern();
        Entry entry = new Entry(account.mailbox(), appId, account.status(), version);
        if (!byId.containsKey(account.id())) {
            // An id seen twice at once is added once: the list is replaced inside compute.
            idsByMailbox.compute(account.mailbox(), (address, ids) -> ids == null ? List.of(account.id())
                    : ids.contains(account.id()) ? ids : plus(ids, account.id()));
        }
        byId.merge(account.id(), entry, (known, read) -> read.version() >= known.version() ? read : known);
    }

    private static List<String> plus(List<String> ids, String id) {
        String[] more = ids.toArray(new String[ids.size() + 1]);
        more[ids.size()] = id;
        return List.of(more);
    }

    /**
     * The ids of the accounts of {@code address} (lower case) this replica has seen: a guess of what
     * the mailbox index holds, never a replacement for it (another replica's connect shows here only
     * once this replica reads that account).
     */
    List<String> idsOf(String address) {
        return idsByMailbox.getOrDefault(address, List.of());
    }

    /** After a read of every account: from now on a filtered page can rely on this index. */
    void markComplete() {
        complete = true;
    }

    /** Whether every account has been read once, so every account is here. */
    boolean complete() {
        return complete;
    }

    /** Whether {@code accountId} is known. */
    boolean contains(String accountId) {
        return byId.containsKey(accountId);
    }

    /** How many accounts are known. */
    int size() {
        return byId.size();
    }

    /**
     * The ids after {@code after} ({@code null}: from the first) in id order whose entry matches:
     * the app, the status and the start of the mailbox address (each {@code null} for any; the
     * prefix in lower case). Lazy: a page takes what it needs; a filter that matches nothing walks
     * the whole index in memory (about 100,000 entries at 100,000 mailboxes).
     */
    Iterator<String> matching(@Nullable String after, @Nullable String appId, Account.@Nullable Status status,
            @Nullable String mailboxPrefix) {
        ConcurrentNavigableMap<String, Entry> tail = after == null ? byId : byId.tailMap(after, false);
        Iterator<Map.Entry<String, Entry>> entries = tail.entrySet().iterator();
        return new Iterator<>() {

            private @Nullable String next;

            @Override
            public boolean hasNext() {
                while (next == null && entries.hasNext()) {
                    Map.Entry<String, Entry> candidate = entries.next();
                    Entry entry = candidate.getValue();
                    if ((appId == null || entry.appId().equals(appId)) && (status == null || entry.status() == status)
                            && (mailboxPrefix == null || entry.mailbox().startsWith(mailboxPrefix))) {
                        next = candidate.getKey();
                    }
                }
                return next != null;
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                String id = next;
                next = null;
                return id;
            }
        };
    }
}
