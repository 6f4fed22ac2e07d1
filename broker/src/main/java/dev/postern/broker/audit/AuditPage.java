package dev.postern.broker.audit;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * A page of the audit trail, newest first.
 *
 * @param events the events found, at most the limit asked for
 * @param resumeBefore when the page ended early at its budget of store calls (a filter that matches
 *        few events on a long trail): the event id the next page continues before, though
 *        {@code events} may be short of the limit or empty; {@code null} when the page is complete
 */
public record AuditPage(List<AuditEvent> events, @Nullable String resumeBefore) {
}
