package dev.postern.broker.audit;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.postern.broker.store.LeaseDocument;
import dev.postern.broker.store.SecretStore;

/**
 * Deletes the audit trail's days older than {@code postern.audit.retention} from the store, whole
 * days at a time ({@link AuditChunks#deleteBefore}), in the background. One replica per
 * {@code retention-interval} does it (the lease {@code leases/audit-retention}); each day deleted
 * is itself an audit event ({@code audit.retention}), which the next day's pass keeps.
 */
@Component
class AuditRetention {

    private static final Logger log = LoggerFactory.getLogger(AuditRetention.class);

    private final SecretStore store;

    private final AuditLog auditLog;

    private final AuditProperties properties;

    private final Clock clock;

    private final LeaseDocument lease;

    AuditRetention(SecretStore store, AuditLog auditLog, AuditProperties properties, Clock clock) {
        this.store = store;
        this.auditLog = auditLog;
        this.properties = properties;
        this.clock = clock;
        this.lease = LeaseDocument.named(store, "audit-retention");
    }

    @Scheduled(initialDelayString = "${postern.audit.retention-initial-delay:5m}",
            fixedDelayString = "${postern.audit.retention-interval:6h}")
    void deleteExpiredInBackground() {
        try {
            deleteExpired();
        }
        catch (RuntimeException ex) {
            log.warn("Deleting audit days past the retention failed, the next pass retries: {}", ex.toString());
        }
    }

    /** Deletes the days past the retention, unless it is 0 or another replica holds this interval's pass. */
    List<AuditChunks.Deleted> deleteExpired() {
        Instant now = clock.instant();
        if (properties.retention().isZero() || !lease.tryAcquire(now, properties.retentionInterval())) {
            return List.of();
        }
        List<AuditChunks.Deleted> deleted = AuditChunks.deleteBefore(store, now.minus(properties.retention()));
        for (AuditChunks.Deleted folder : deleted) {
            log.info("Deleted the audit trail's {} ({} chunks): older than postern.audit.retention ({})", folder.folder(),
                    folder.chunks(), properties.retention());
            auditLog.success("system", AuditActions.AUDIT_RETENTION, "audit", folder.folder(),
                    Map.of("chunks", String.valueOf(folder.chunks()), "retention", properties.retention().toString()));
        }
        return deleted;
    }
}
