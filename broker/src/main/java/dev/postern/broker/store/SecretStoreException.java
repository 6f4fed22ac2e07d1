package dev.postern.broker.store;

/**
 * The root of every store failure. Messages name the path and the kind of failure, never a
 * secret value and never the backend's raw answer.
 */
public class SecretStoreException extends RuntimeException {

    public SecretStoreException(String message) {
        super(message);
    }

    public SecretStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
