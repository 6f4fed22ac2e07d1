package dev.postern.broker.store;

/**
 * The backend cannot be used right now: unreachable, sealed, too slow, or it refused our
 * credentials. Callers answer 503 and may try again later.
 */
public class StoreUnavailableException extends SecretStoreException {

    public StoreUnavailableException(String message) {
        super(message);
    }

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
