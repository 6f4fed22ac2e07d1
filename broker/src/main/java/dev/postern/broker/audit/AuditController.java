package dev.postern.broker.audit;

import java.util.List;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.ApiException;

/** The audit trail over HTTP: read only, newest first, paged and filtered. */
@RestController
@RequestMapping("/v1/audit")
class AuditController {

    private final AuditLog auditLog;

    AuditController(AuditLog auditLog) {
        this.auditLog = auditLog;
    }

    /** A page of the audit trail. */
    record AuditPage(List<AuditEvent> items, @Nullable String nextCursor) {
    }

    @GetMapping
    AuditPage list(@RequestParam(defaultValue = "50") int limit, @RequestParam(required = false) String cursor,
            @RequestParam(required = false) String action, @RequestParam(required = false) String actor,
            @RequestParam(name = "object_id", required = false) String objectId, @RequestParam(required = false) String outcome) {
        if (limit < 1 || limit > 500) {
            throw ApiException.invalidField("limit", "must be between 1 and 500");
        }
        Predicate<AuditEvent> filter = event -> (action == null || event.action().equals(action))
                && (actor == null || event.actor().equals(actor))
                && (objectId == null || objectId.equals(event.objectId()))
                && (outcome == null || event.outcome().equals(outcome));
        List<AuditEvent> items = auditLog.page(filter, cursor, limit + 1);
        String next = null;
        if (items.size() > limit) {
            items = items.subList(0, limit);
            next = items.getLast().id();
        }
        return new AuditPage(items, next);
    }
}
