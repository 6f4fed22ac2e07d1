package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;

/**
 * Copies bytes both ways, unchanged, until one side closes or nothing moved in either direction for
 * the idle timeout. A direction that is quiet while the other is busy (a long download, a client in
 * IMAP IDLE waiting for the server) is not idle.
 */
final class Relay {

    private static final int BUFFER = 16 * 1024;

    private final Duration idleTimeout;

    private final Counter toUpstream;

    private final Counter toClient;

    private final AtomicLong lastActivity = new AtomicLong(System.nanoTime());

    Relay(Duration idleTimeout, Counter toUpstream, Counter toClient) {
        this.idleTimeout = idleTimeout;
        this.toUpstream = toUpstream;
        this.toClient = toClient;
    }

    /** Relays until the session ends; closes both sockets. */
    void run(MailLine client, MailLine upstream) throws InterruptedException {
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
            client.close();
            upstream.close();
        }
    }
}
