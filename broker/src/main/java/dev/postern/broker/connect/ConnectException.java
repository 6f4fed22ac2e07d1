package dev.postern.broker.connect;

/** Why a mailbox could not be connected, in words for the mailbox owner. Never holds a secret. */
public class ConnectException extends RuntimeException {

    public ConnectException(String message) {
        super(message);
    }
}
