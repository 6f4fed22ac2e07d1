package dev.postern.broker.mailproxy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The heap idle relayed sessions hold in the proxy: {@code N} sessions, each a client's TLS
 * connection accepted in server mode and a verified TLS connection to a mail server opened by
 * {@link Upstreams}, relayed by {@link Relay} as after a login, with nothing moving (a client in
 * IDLE with no news). The far ends (clients and server) run in a Python process, so only the
 * proxy's side is in this heap. Prints the heap after GC with none and with {@code N}, and the
 * difference per session. Not a test: a measurement, run by hand (docs/mail-proxy.md says how).
 */
final class IdleSessionsMemoryBench {

    private IdleSessionsMemoryBench() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        TestMailCertificate certificate = TestMailCertificate.create();
        SSLContext serverTls = certificate.serverContext();
        // The proxy's own upstream code path; the bench never asks it for an app's servers.
        Upstreams upstreams = new Upstreams(certificate.clientContext(), null, Duration.ofSeconds(30));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AtomicInteger relayed = new AtomicInteger();
        try (ServerSocket listener = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress())) {
            Path script = Path.of(IdleSessionsMemoryBench.class.getResource("/mailproxy/idle_far_ends.py").toURI());
            Process far = new ProcessBuilder("/usr/bin/python3", script.toString(), String.valueOf(listener.getLocalPort()),
                    certificate.certificate.toString(), certificate.privateKey.toString(), String.valueOf(count))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
            BufferedReader farOut = new BufferedReader(new InputStreamReader(far.getInputStream(), StandardCharsets.UTF_8));
            int upstreamPort = Integer.parseInt(farOut.readLine().split(" ")[1]);
            Upstreams.Endpoint endpoint = new Upstreams.Endpoint("localhost", upstreamPort, Upstreams.Security.IMPLICIT_TLS);
            long none = heapAfterGc();
            Thread.ofVirtual().start(() -> {
                while (!listener.isClosed()) {
                    try {
                        Socket socket = listener.accept();
                        Thread.ofVirtual().start(() -> {
                            try {
                                SSLSocket client = (SSLSocket) serverTls.getSocketFactory()
                                    .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                                client.setUseClientMode(false);
                                client.startHandshake();
                                MailLine upstream = upstreams.open(endpoint);
                                relayed.incrementAndGet();
                                new Relay(Duration.ofMinutes(31), meters.counter("up"), meters.counter("down"))
                                    .run(new MailLine(client), upstream);
                            }
                            catch (Exception ex) {
                                System.err.println("session failed: " + ex);
                            }
                        });
                    }
                    catch (Exception ex) {
                        return;
                    }
                }
            });
            OutputStream farIn = far.getOutputStream();
            long started = System.nanoTime();
            farIn.write("go\n".getBytes(StandardCharsets.US_ASCII));
            farIn.flush();
            String ready = farOut.readLine();
            while (relayed.get() < count) {
                Thread.sleep(50);
            }
            long opened = (System.nanoTime() - started) / 1_000_000;
            Thread.sleep(2_000);
            long held = heapAfterGc();
            System.out.printf("far ends: %s%n", ready);
            System.out.printf("%d idle relayed TLS sessions opened in %d ms%n", count, opened);
            System.out.printf("heap after GC: none %.1f MB, %d sessions %.1f MB, difference %.1f MB, %.1f KB per session%n",
                    none / 1e6, count, held / 1e6, (held - none) / 1e6, (held - none) / 1e3 / count);
            farIn.close();
            far.waitFor();
        }
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(300);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
