package dev.postern.broker.accounts;

/**
 * A mailbox was signed in to by another identity than the one it is bound to. The message is
 * for the person who signed in and names no identity.
 */
public class IdentityMismatchException extends RuntimeException {

    public IdentityMismatchException(String message) {
        super(message);
    }
}
