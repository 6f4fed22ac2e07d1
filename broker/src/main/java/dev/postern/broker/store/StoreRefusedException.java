package dev.postern.broker.store;

/**
 * The backend refused a request that it would refuse again however often it is sent: a document
 * larger than it takes (Raft's 1 MiB entry, the listener's request size), or a request it does not
 * accept. Unlike {@link StoreUnavailableException}, waiting does not help; a caller that can change
 * the request (a smaller document) may.
 */
public class StoreRefusedException extends SecretStoreException {

    public StoreRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
