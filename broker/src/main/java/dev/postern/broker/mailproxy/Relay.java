package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import org.jspecify.annotations.Nullable;

/**
 * Copies bytes both ways, unchanged, until one side closes or nothing moved in either direction for
 * the idle timeout. A direction that is quiet while the other is busy (a long download, a client in
 * IMAP IDLE waiting for the server) is not idle. {@link #stop} ends it from outside (a revoked
 * credential).
 */
final class Relay {

    private static final int BUFFER = 16 * 1024;

    /** How long a stopped relay may take to hand the client its last line before its socket is cut. */
    static final Duration STOP_GRACE = Duration.ofSeconds(1);

    private final Duration idleTimeout;

    private final Counter toUpstream;

    private final Counter toClient;

    private final AtomicLong lastActivity = new AtomicLong(System.nanoTime());

    private final CountDownLatch ended = new CountDownLatch(1);

    // Guarded by this: what stop() and run() hand each other, whichever comes first.
    private @Nullable MailLine client;

    private @Nullable MailLine upstream;

    private boolean stopping;

    private byte @Nullable [] farewell;

    Relay(Duration idleTimeout, Counter toUpstream, Counter toClient) {
        this.idleTimeout = idleTimeout;
        this.toUpstream = toUpstream;
        this.toClient = toClient;
    }

    /** Relays until the session ends; closes both sockets. */
    void run(MailLine client, MailLine upstream) throws InterruptedException {
        try {
            boolean stoppedBefore;
            synchronized (this) {
                this.client = client;
                this.upstream = upstream;
                stoppedBefore = stopping;
            }
            if (stoppedBefore) {
                endWithinGrace(upstream);
                sayFarewell(client);
                client.close();
                return;
            }
            // Reads wake up at least this often to see whether the other direction kept the session alive.
            int poll = (int) Math.min(idleTimeout.toMillis(), 30_000);
            try {
                client.socket.setSoTimeout(poll);
                upstream.socket.setSoTimeout(poll);
            }
            catch (IOException ex) {
                client.close();
                upstream.close();
                return;
            }
            Thread down = Thread.ofVirtual().name("mail-relay-down").start(() -> copy(upstream.in, client.out, toClient, client, upstream));
            copy(client.in, upstream.out, toUpstream, client, upstream);
            down.join();
        }
        finally {
            ended.countDown();
        }
    }

    /**
     * Ends the session now, before or while it runs, without waiting for it: the mail server's side
     * is closed at once; the client gets {@code farewell} as its last line (written by the thread
     * that copies towards it, the only writer of that stream, so it never lands inside a relayed
     * write), then its side is closed too, by force after {@link #STOP_GRACE} (a client that reads
     * nothing cannot hold the session open by letting the farewell block).
     */
    void stop(@Nullable String farewell) {
        MailLine upstreamNow;
        synchronized (this) {
            if (stopping) {
                return;
            }
            stopping = true;
            this.farewell = farewell == null ? null : (farewell + "\r\n").getBytes(StandardCharsets.UTF_8);
            upstreamNow = upstream;
        }
        // Not relaying yet: run() sees the flag and ends at once.
        if (upstreamNow != null) {
            endWithinGrace(upstreamNow);
        }
    }

    /**
     * Closes the mail server's side, and the client's by force if the relay has not ended after
     * {@link #STOP_GRACE}; on a thread of its own, since closing a TLS socket sends close_notify and
     * may wait, and stop() is called on an API request's thread.
     */
    private void endWithinGrace(MailLine upstreamNow) {
        Thread.ofVirtual().name("mail-relay-stop").start(() -> {
            upstreamNow.close();
            try {
                if (!ended.await(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    forceClose(clientSide());
                }
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private synchronized boolean isStopping() {
        return stopping;
    }

    private synchronized @Nullable MailLine clientSide() {
        return client;
    }

    /**
     * Closes {@code line} even while a write to it blocks: with SO_LINGER 0 a TLS socket does not wait
     * for the write's lock to send close_notify, and TCP resets rather than drains.
     */
    private static void forceClose(@Nullable MailLine line) {
        if (line == null) {
            return;
        }
        try {
            line.socket.setSoLinger(true, 0);
        }
        catch (IOException ex) {
            // already closed
        }
        line.close();
    }

    /** The farewell of a stopped relay, if any, on the client's stream; called by its one writer. */
    private void sayFarewell(MailLine toClient) {
        byte[] last;
        synchronized (this) {
            last = stopping ? farewell : null;
        }
        if (last == null) {
            return;
        }
        try {
            toClient.out.write(last);
            toClient.out.flush();
        }
        catch (IOException ex) {
            // The client is gone already; it is closed next either way.
        }
    }

    private void copy(InputStream from, OutputStream to, Counter bytes, MailLine client, MailLine upstream) {
        byte[] buffer = new byte[BUFFER];
        try {
            while (true) {
                int read;
                try {
                    read = from.read(buffer);
                }
                catch (SocketTimeoutException ex) {
                    if (System.nanoTime() - lastActivity.get() > idleTimeout.toNanos()) {
                        return;
                    }
                    continue;
                }
                if (read < 0) {
                    return;
                }
                lastActivity.set(System.nanoTime());
                to.write(buffer, 0, read);
                // Flush only when nothing more is waiting: interactive commands go out at once, bulk in large writes.
                if (from.available() == 0) {
                    to.flush();
                }
                bytes.increment(read);
            }
        }
        catch (IOException ex) {
            // One side went away: the session is over.
        }
        finally {
            boolean towardsClient = to == client.out;
            if (towardsClient) {
                sayFarewell(client);
            }
            // A stopped relay's client side is closed by the direction towards it, after the farewell.
            if (towardsClient || !isStopping()) {
                client.close();
            }
            upstream.close();
        }
    }
}
