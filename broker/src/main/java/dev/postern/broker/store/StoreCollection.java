package dev.postern.broker.store;

/**
 * The fixed vocabulary of top-level folders in the store. A path always starts with one of
 * these, so user input can never choose where a document lands.
 */
public enum StoreCollection {

    APPS("apps"),
    ACCOUNTS("accounts"),
    CLIENTS("clients"),
    CONNECT_LINKS("connect-links"),
    APP_PASSWORDS("app-passwords"),
    AUDIT("audit"),
    ALERTS("alerts"),
    LEASES("leases"),
    /** Lookup documents that name the document they index, such as {@code indexes/mailbox/{hash}}. */
    INDEXES("indexes"),
    SYSTEM("system");

    private final String segment;

    StoreCollection(String segment) {
        this.segment = segment;
    }

    /** The path segment this collection is stored under. */
    public String segment() {
        return segment;
    }
}
