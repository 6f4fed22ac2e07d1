package dev.postern.broker.expiry;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * Lists objects whose expiry the scanner watches. Every bean of this type is asked at each scan
 * and for each {@code GET /v1/expiry}, so a call should read the store and no remote service
 * (cache what comes from one). {@link AppCredentialSource} lists app credentials; the
 * {@code accounts} package adds one for mailboxes.
 *
 * <p>An object the scanner alerted on resolves when the source stops listing it, lists it as
 * {@link ExpiringObject.Hint#SUPERSEDED}, or lists it with another {@code expiresAt} that is
 * outside every threshold (a mailbox whose refresh token was used or reconnected).
 */
public interface ExpiringObjectSource {

    /** A short name for logs and errors, such as {@code app-credentials}. */
    String name();

    /**
     * Called once at the start of each scan, before {@link #expiringObjects()}: the place for
     * remote reads (Graph) whose answers the listing then reuses. Nothing by default.
     */
    default void refresh() {
    }

    /** The objects to watch now. */
    List<ExpiringObject> expiringObjects();

    /** The name of app {@code appId} as of the last listing, when this source lists apps; else {@code null}. */
    default @Nullable String appName(String appId) {
        return null;
    }
}
