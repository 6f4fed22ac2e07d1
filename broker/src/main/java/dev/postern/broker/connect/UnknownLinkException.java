package dev.postern.broker.connect;

/**
 * A connect link secret or a callback state that names no link: what a guesser gets. Each costs a
 * store read, so they are counted per address with failed API keys (see {@code ConnectController}).
 */
public class UnknownLinkException extends ConnectException {

    public UnknownLinkException(String message) {
        super(message);
    }
}
