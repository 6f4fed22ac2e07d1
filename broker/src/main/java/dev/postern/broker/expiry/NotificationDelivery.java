package dev.postern.broker.expiry;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers notifications off the scan thread, retrying with exponential backoff; after the last
 * try the notification is recorded as failed (store and metric), never dropped silently.
 */
public class NotificationDelivery {

    private static final Logger log = LoggerFactory.getLogger(NotificationDelivery.class);

    /** One try; throws when it failed. The message is kept short and must hold no secret. */
    @FunctionalInterface
    public interface Attempt {

        void run(int attempt) throws Exception;
    }

    private final int maxAttempts;

    private final Duration initialBackoff;

    private final FailedNotifications failures;

    private final ExpiryMetrics metrics;

    private final Clock clock;

    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "postern-expiry-notify");
        thread.setDaemon(true);
        return thread;
    });

    public NotificationDelivery(int maxAttempts, Duration initialBackoff, FailedNotifications failures,
            ExpiryMetrics metrics, Clock clock) {
        this.maxAttempts = maxAttempts;
        this.initialBackoff = initialBackoff;
        this.failures = failures;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Delivers {@code event} as message {@code messageId} through {@code notifier}. */
    public void submit(String notifier, String messageId, ExpiryEvent event, Attempt attempt) {
        executor.execute(() -> tryOnce(notifier, messageId, event, attempt, 1));
    }

    private void tryOnce(String notifier, String messageId, ExpiryEvent event, Attempt attempt, int number) {
        try {
            attempt.run(number);
        }
        catch (Exception ex) {
            String reason = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
            if (number >= maxAttempts) {
                log.warn("Expiry notification {} via {} for app {} failed after {} tries: {}", messageId, notifier,
                        event.appId(), number, reason);
                metrics.notificationFailed(notifier);
                try {
                    failures.record(new FailedNotifications.Failure(messageId, notifier, event.type(), event.appId(),
                            event.incidentId(), number, reason, clock.instant()));
                }
                catch (RuntimeException storeFailure) {
                    log.warn("Could not record failed notification {}: {}", messageId, storeFailure.toString());
                }
                return;
            }
            long delay = initialBackoff.toMillis() << Math.min(number - 1, 20);
            log.info("Expiry notification {} via {} failed (try {} of {}), next try in {} ms: {}", messageId, notifier,
                    number, maxAttempts, delay, reason);
            executor.schedule(() -> tryOnce(notifier, messageId, event, attempt, number + 1), delay,
                    TimeUnit.MILLISECONDS);
        }
    }

    @PreDestroy
    void stop() {
        executor.shutdown();
    }
}
