package dev.postern.broker.store;

/**
 * A stored document failed its integrity check: its MAC does not match its content and place, a
 * secret field does not decrypt for its document and field, or it is in the legacy format but was
 * written after the store moved to the authenticated one. It is never used. The message names the
 * path and the check, never the content.
 */
public class DocumentIntegrityException extends SecretStoreException {

    private final SecretPath path;

    public DocumentIntegrityException(SecretPath path, String check) {
        super("the document at " + path + " failed its integrity check (" + check + ") and was not used");
        this.path = path;
    }

    public SecretPath path() {
        return path;
    }
}
