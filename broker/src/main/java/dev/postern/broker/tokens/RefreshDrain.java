package dev.postern.broker.tokens;

import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Drains the token refreshes of this process when it shuts down: no new refresh starts, and the
 * shutdown waits until those under way have stored their rotated refresh token.
 * <p>
 * A refresh that the provider has answered but whose rotated refresh token was never stored can
 * break the mailbox (a provider with strict rotation refuses the previous token). So on
 * {@code SIGTERM} the broker lets every refresh under way finish and store, answers new misses
 * {@code 503 shutting-down} with {@code Retry-After} (another replica, or this one restarted,
 * serves them), and keeps serving cached tokens meanwhile. This runs in the first shutdown phase:
 * Spring Boot has already turned readiness to {@code REFUSING_TRAFFIC}, and Tomcat still accepts
 * requests, so callers get an answer rather than a refused or reset connection. Tomcat's own
 * graceful shutdown (a later phase) then lets the requests in progress finish. Each phase waits at
 * most {@code spring.lifecycle.timeout-per-shutdown-phase}.
 */
@Component
class RefreshDrain implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RefreshDrain.class);

    /** Refreshes under way in this process: started and not yet stored or failed. */
    private final AtomicInteger running = new AtomicInteger();

    private final Object idle = new Object();

    private volatile boolean draining;

    private volatile boolean started;

    /**
     * Counts a refresh in; false once the drain has begun (the caller answers 503 instead). The
     * count is raised before the flag is read, so the drain either sees this refresh or this
     * refresh sees the drain.
     */
    boolean tryStart() {
        running.incrementAndGet();
        if (draining) {
            finished();
            return false;
        }
        return true;
    }

    /** Counts a refresh out, whatever its outcome. */
    void finished() {
        if (running.decrementAndGet() == 0) {
            synchronized (idle) {
                idle.notifyAll();
            }
        }
    }

    /** Whether the broker is shutting down: background refreshes are not started any more. */
    boolean draining() {
        return draining;
    }

    @Override
    public void start() {
        draining = false;
        started = true;
    }

    @Override
    public void stop() {
        throw new UnsupportedOperationException("stopped through stop(Runnable)");
    }

    /**
     * Begins the drain and tells Spring when it is over, from a thread of its own: the lifecycle
     * processor then bounds the wait by {@code spring.lifecycle.timeout-per-shutdown-phase} and
     * goes on with the shutdown if a refresh hangs.
     */
    @Override
    public void stop(Runnable callback) {
        draining = true;
        long began = System.nanoTime();
        int atStart = running.get();
        Thread.ofVirtual().name("refresh-drain").start(() -> {
            try {
                synchronized (idle) {
                    while (running.get() > 0) {
                        idle.wait(100);
                    }
                }
                log.info("Shutting down: the {} token refreshes under way have finished, after {} ms", atStart,
                        (System.nanoTime() - began) / 1_000_000);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            finally {
                started = false;
                callback.run();
            }
        });
    }

    @Override
    public boolean isRunning() {
        return started;
    }

    /** Stopped first, before the web server stops taking requests (Spring Boot's graceful shutdown phase). */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
