package dev.postern.broker.accounts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.postern.broker.store.SecretDocument;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoredDocument;
import dev.postern.broker.store.VersionConflictException;

/**
 * The mailbox → account index in the store: one document per lower-cased mailbox address,
 * {@code indexes/mailbox/{sha-256 of the address}}, naming each account of that address with its
 * app ({@code accounts: {account id: app id}}). A token request by mailbox and a connect read it
 * instead of every account. The address is hashed because a store path takes only plain ids and
 * because Vault's key names are not encrypted.
 *
 * <p>Written before the account it names (see {@link AccountService#connect}), so a crash in
 * between leaves an entry for an account that does not exist (skipped by every lookup, its id
 * reused by the next connect) and never an account that no lookup finds. Accounts are never
 * deleted (a revoke keeps the document), so entries never go stale; {@link MailboxIndexCheck}
 * adds what is missing.
 */
@Component
class MailboxIndex {

    private static final String ACCOUNTS = "accounts";

    private final SecretStore store;

    MailboxIndex(SecretStore store) {
        this.store = store;
    }

    /**
     * The accounts of one address.
     *
     * @param accounts account id → app id
     * @param version the version a write must name
     */
    record Entry(Map<String, String> accounts, long version) {
    }

    /** The accounts of {@code address} (lower case): one store read. */
    Entry find(String address) {
        return store.read(path(address)).map(MailboxIndex::entry).orElse(new Entry(Map.of(), SecretStore.NEW));
    }

    /**
     * Names {@code candidateId} as the account of {@code appId} under {@code address} unless the
     * index names one for that app already, and returns the id it names: of two first connects of
     * one app and address at once, both get the id of the one whose CAS write came first.
     */
    String claim(String address, String candidateId, String appId) {
        for (int attempt = 0;; attempt++) {
            Entry entry = find(address);
            for (Map.Entry<String, String> named : new java.util.TreeMap<>(entry.accounts()).entrySet()) {
                if (named.getValue().equals(appId)) {
                    return named.getKey();
                }
            }
            Map<String, String> accounts = new LinkedHashMap<>(entry.accounts());
            accounts.put(candidateId, appId);
            try {
                store.write(path(address), SecretDocument.of(Map.of("mailbox", address, ACCOUNTS, accounts)),
                        entry.version());
                return candidateId;
            }
            catch (VersionConflictException ex) {
                if (attempt >= 5) {
                    throw ex;
                }
            }
        }
    }

    /** Adds {@code accountId} of {@code appId} under {@code address} unless present; retries on a concurrent write. */
    void add(String address, String accountId, String appId) {
        for (int attempt = 0;; attempt++) {
            Entry entry = find(address);
            if (appId.equals(entry.accounts().get(accountId))) {
                return;
            }
            Map<String, String> accounts = new LinkedHashMap<>(entry.accounts());
            accounts.put(accountId, appId);
            try {
                store.write(path(address), SecretDocument.of(Map.of("mailbox", address, ACCOUNTS, accounts)),
                        entry.version());
                return;
            }
            catch (VersionConflictException ex) {
                if (attempt >= 5) {
                    throw ex;
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Entry entry(StoredDocument stored) {
        Map<String, String> accounts = new LinkedHashMap<>();
        Object named = stored.document().data().get(ACCOUNTS);
        if (named instanceof Map<?, ?> map) {
            ((Map<Object, Object>) map).forEach((account, app) -> accounts.put(String.valueOf(account), String.valueOf(app)));
        }
        return new Entry(Map.copyOf(accounts), stored.version());
    }

    /** The index document's id for {@code address}. */
    static String key(String address) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(address.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every JDK", ex);
        }
    }

    private static SecretPath path(String address) {
        return SecretPath.of(StoreCollection.INDEXES, "mailbox", key(address));
    }

    /** The folder of all mailbox index documents. */
    static SecretPath folder() {
        return SecretPath.of(StoreCollection.INDEXES, "mailbox");
    }

    /** Whether the stored index names every account of {@code address} in {@code expected}. */
    boolean covers(String address, Map<String, String> expected) {
        Entry entry = find(address);
        return expected.entrySet().stream().allMatch(e -> e.getValue().equals(entry.accounts().get(e.getKey())));
    }
}
