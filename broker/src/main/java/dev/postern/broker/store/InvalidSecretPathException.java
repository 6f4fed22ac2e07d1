package dev.postern.broker.store;

/** A store path was built from something that is not a broker-generated id. */
public class InvalidSecretPathException extends SecretStoreException {

    public InvalidSecretPathException(String message) {
        super(message);
    }
}
