package dev.postern.broker.store;

/** A compare-and-set write named a version that is no longer the current one. */
public class VersionConflictException extends SecretStoreException {

    private final SecretPath path;

    private final long expectedVersion;

    public VersionConflictException(SecretPath path, long expectedVersion) {
        super("version conflict at " + path + ": expected version " + expectedVersion + " is no longer current");
        this.path = path;
        this.expectedVersion = expectedVersion;
    }

    public SecretPath path() {
        return path;
    }

    public long expectedVersion() {
        return expectedVersion;
    }
}
