package dev.postern.broker.audit;

import java.time.Instant;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * One entry of the audit trail: who did what to which object, when, and how it ended. Details
 * hold names and ids only, never a secret or a token.
 *
 * @param id a time-ordered id
 * @param at when it happened
 * @param actor the API client id, or {@code system}
 * @param action what was done, such as {@code app.create} or {@code token.issue}
 * @param objectType the kind of object, such as {@code app}
 * @param objectId the object's id, or {@code null}
 * @param outcome {@code success}, {@code failure} or {@code denied}
 * @param requestId the HTTP request that caused it, or {@code null}
 * @param details further non-secret facts
 */
public record AuditEvent(String id, Instant at, String actor, String action, String objectType,
        @Nullable String objectId, String outcome, @Nullable String requestId, Map<String, String> details) {

    public AuditEvent {
        details = Map.copyOf(details);
    }
}
