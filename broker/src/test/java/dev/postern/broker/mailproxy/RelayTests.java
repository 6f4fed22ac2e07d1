package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's idle rule over real loopback sockets: quiet in both directions for the idle timeout
 * ends a session; one busy direction (a client in IMAP IDLE receiving untagged updates) keeps it.
 */
@Timeout(30)
class RelayTests {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private final Counter up = meters.counter("up");

    private final Counter down = meters.counter("down");

    /** Two connected socket pairs: the relay's client and upstream ends, and the test's far ends. */
    private record Pairs(Socket relayClient, Socket farClient, Socket relayUpstream, Socket farUpstream) {
    }

    private static Pairs pairs() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
            Socket farClient = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            Socket relayClient = server.accept();
            Socket farUpstream = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
            Socket relayUpstream = server.accept();
            return new Pairs(relayClient, farClient, relayUpstream, farUpstream);
        }
    }

    @Test
    void aSessionQuietBothWaysForTheIdleTimeoutIsClosed() throws Exception {
        Pairs pairs = pairs();
        long started = System.nanoTime();
        new Relay(Duration.ofMillis(600), up, down).run(new MailLine(pairs.relayClient()), new MailLine(pairs.relayUpstream()));
        long elapsed = (System.nanoTime() - started) / 1_000_000;
        assertThat(elapsed).isBetween(500L, 5_000L);
        assertThat(pairs.farClient().getInputStream().read()).as("the client sees the end of the stream").isEqualTo(-1);
        pairs.farClient().close();
        pairs.farUpstream().close();
    }

    @Test
    void updatesFromTheServerKeepAnIdlingClientsSessionOpenAndBytesPassUnchanged() throws Exception {
        Pairs pairs = pairs();
        MailLine relayClient = new MailLine(pairs.relayClient());
        MailLine relayUpstream = new MailLine(pairs.relayUpstream());
        Thread relay = Thread.ofVirtual().start(() -> {
            try {
                new Relay(Duration.ofMillis(600), up, down).run(relayClient, relayUpstream);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
        OutputStream server = pairs.farUpstream().getOutputStream();
        InputStream client = pairs.farClient().getInputStream();
        pairs.farClient().getOutputStream().write("a1 IDLE\r\n".getBytes());
        // The client says nothing more for 2 s, three idle timeouts; the server sends an update every 200 ms.
        for (int i = 0; i < 10; i++) {
            byte[] update = ("* " + i + " EXISTS\r\n").getBytes();
            server.write(update);
            server.flush();
            assertThat(client.readNBytes(update.length)).isEqualTo(update);
            Thread.sleep(200);
        }
        assertThat(relay.isAlive()).as("the session is still relayed").isTrue();
        assertThat(up.count()).isEqualTo("a1 IDLE\r\n".length());
        pairs.farUpstream().close();
        relay.join(5_000);
        assertThat(relay.isAlive()).as("the relay ends with the server's side").isFalse();
        pairs.farClient().close();
    }

    @Test
    void aStoppedRelayClosesTheServersSideAtOnceAndTellsTheClientWhyLast() throws Exception {
        Pairs pairs = pairs();
        Relay relay = new Relay(Duration.ofMinutes(31), up, down);
        Thread running = Thread.ofVirtual().start(() -> {
            try {
                relay.run(new MailLine(pairs.relayClient()), new MailLine(pairs.relayUpstream()));
            }
            catch (InterruptedException | java.io.IOException ex) {
                throw new IllegalStateException(ex);
            }
        });
        pairs.farClient().getOutputStream().write("a1 IDLE\r\n".getBytes());
        assertThat(pairs.farUpstream().getInputStream().readNBytes(9)).isEqualTo("a1 IDLE\r\n".getBytes());
        pairs.farUpstream().getOutputStream().write("+ idling\r\n".getBytes());
        assertThat(pairs.farClient().getInputStream().readNBytes(10)).isEqualTo("+ idling\r\n".getBytes());

        long stopped = System.nanoTime();
        relay.stop("* BYE revoked");
        running.join(5_000);

        assertThat(running.isAlive()).as("the relay ended").isFalse();
        assertThat((System.nanoTime() - stopped) / 1_000_000).as("ms to end").isLessThan(Relay.STOP_GRACE.toMillis() + 500);
        assertThat(new String(pairs.farClient().getInputStream().readAllBytes()))
            .as("the farewell, then the end of the stream").isEqualTo("* BYE revoked\r\n");
        assertThat(pairs.farUpstream().getInputStream().read()).as("the server sees the end of the stream").isEqualTo(-1);
        pairs.farClient().close();
        pairs.farUpstream().close();
    }

    @Test
    void aRelayStoppedBeforeItRunsSaysItsFarewellAndEndsAtOnce() throws Exception {
        Pairs pairs = pairs();
        Relay relay = new Relay(Duration.ofMinutes(31), up, down);
        relay.stop("* BYE revoked");
        relay.stop("* BYE again");
        relay.run(new MailLine(pairs.relayClient()), new MailLine(pairs.relayUpstream()));
        assertThat(new String(pairs.farClient().getInputStream().readAllBytes())).isEqualTo("* BYE revoked\r\n");
        assertThat(pairs.farUpstream().getInputStream().read()).isEqualTo(-1);
        pairs.farClient().close();
        pairs.farUpstream().close();
    }

    @Test
    void aClientThatReadsNothingCannotKeepAStoppedRelayOpenPastTheGrace() throws Exception {
        Pairs pairs = pairs();
        Relay relay = new Relay(Duration.ofMinutes(31), up, down);
        Thread running = Thread.ofVirtual().start(() -> {
            try {
                relay.run(new MailLine(pairs.relayClient()), new MailLine(pairs.relayUpstream()));
            }
            catch (InterruptedException | IOException ex) {
                throw new IllegalStateException(ex);
            }
        });
        // The server sends far more than the socket buffers hold; the client reads none of it, so the copy towards it blocks.
        Thread server = Thread.ofVirtual().start(() -> {
            try {
                OutputStream out = pairs.farUpstream().getOutputStream();
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < 1024; i++) {
                    out.write(chunk);
                }
            }
            catch (IOException ex) {
                // closed by the stop
            }
        });
        while (down.count() < 64 * 1024) {
            Thread.sleep(20);
        }

        long stopped = System.nanoTime();
        relay.stop("* BYE revoked");
        running.join(5_000);

        assertThat(running.isAlive()).as("the relay ended").isFalse();
        assertThat((System.nanoTime() - stopped) / 1_000_000).as("ms to end").isLessThan(Relay.STOP_GRACE.toMillis() + 1_000);
        server.join(5_000);
        pairs.farClient().close();
        pairs.farUpstream().close();
    }
}
