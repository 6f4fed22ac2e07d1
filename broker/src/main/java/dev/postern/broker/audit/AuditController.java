package dev.postern.broker.audit;

import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.ApiException;
import dev.postern.broker.web.Paging;
import dev.postern.broker.web.Rfc3339;

/** The audit trail over HTTP: read only, newest first, paged and filtered. */
@RestController
@RequestMapping("/v1/audit")
class AuditController {

    private final AuditLog auditLog;

    AuditController(AuditLog auditLog) {
        this.auditLog = auditLog;
    }

    /** A page of the audit trail, newest first, in the time range {@code [from, to)}. */
    @GetMapping
    Paging.Page<AuditEvent> list(@Parameter(description = Paging.LIMIT_DESCRIPTION, schema = @Schema(type = "integer", minimum = "1", maximum = "500", defaultValue = "100")) @RequestParam(required = false) @Nullable Integer limit,
            @Parameter(description = Paging.CURSOR_DESCRIPTION) @RequestParam(required = false) @Nullable String cursor,
            @Parameter(description = "Events at or after this RFC 3339 time.") @RequestParam(required = false) @Nullable String from,
            @Parameter(description = "Events before this RFC 3339 time.") @RequestParam(required = false) @Nullable String to,
            @RequestParam(required = false) @Nullable String action, @RequestParam(required = false) @Nullable String actor,
            @RequestParam(name = "object_id", required = false) @Nullable String objectId,
            @RequestParam(required = false) @Nullable String outcome) {
        int size = Paging.limit(limit);
        String before = Paging.position("audit", cursor, id -> AuditLog.EVENT_ID.matcher(id).matches());
        Instant start = instant("from", from);
        Instant end = instant("to", to);
        if (start != null && end != null && !start.isBefore(end)) {
            throw ApiException.invalidField("from", "must be before to");
        }
        Predicate<AuditEvent> filter = event -> (action == null || event.action().equals(action))
                && (actor == null || event.actor().equals(actor))
                && (objectId == null || objectId.equals(event.objectId()))
                && (outcome == null || event.outcome().equals(outcome));
        AuditPage page = auditLog.page(filter, start, end, before, size + 1);
        List<AuditEvent> items = page.events();
        String next = null;
        if (items.size() > size) {
            items = items.subList(0, size);
            next = Paging.cursor("audit", items.getLast().id());
        }
        else if (page.resumeBefore() != null) {
            // The page used its store budget before it was full: fewer items, and the cursor goes on from there.
            next = Paging.cursor("audit", page.resumeBefore());
        }
        return new Paging.Page<>(items, next);
    }

    private static @Nullable Instant instant(String field, @Nullable String value) {
        if (value == null) {
            return null;
        }
        try {
            return Rfc3339.parse(value);
        }
        catch (DateTimeException ex) {
            throw ApiException.invalidField(field, "must be an RFC 3339 time in UTC, such as 2026-01-31T12:00:00Z");
        }
    }
}
