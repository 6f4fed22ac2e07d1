package dev.postern.broker.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A TCP proxy on 127.0.0.1 in front of one server (Vault) that can hold back everything the server sends
 * for a while: a slow network path for one broker only. Requests go through at once, so the server acts
 * on them when they were sent and the client learns the result late.
 */
final class SlowLink implements AutoCloseable {

    private final ServerSocket listener;

    private final InetSocketAddress upstream;

    private final ExecutorService pumps = Executors.newVirtualThreadPerTaskExecutor();

    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    private volatile Duration delay = Duration.ZERO;

    /** A link to the server at {@code url} (http://host:port). */
    SlowLink(String url) throws IOException {
        URI target = URI.create(url);
        this.upstream = new InetSocketAddress(target.getHost(), target.getPort());
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pumps.execute(this::accept);
    }

    /** The address to give the client instead of the server's. */
    String url() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    /** From now on, everything the server sends reaches the client {@code delay} later (zero: at once). */
    void delayAnswers(Duration delay) {
        this.delay = delay;
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(upstream.getAddress(), upstream.getPort());
                sockets.add(client);
                sockets.add(server);
                pumps.execute(() -> pump(client, server, false));
                pumps.execute(() -> pump(server, client, true));
            }
            catch (IOException closed) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean delayed) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                Duration wait = delayed ? delay : Duration.ZERO;
                if (!wait.isZero()) {
                    Thread.sleep(wait);
                }
                out.write(buffer, 0, read);
                out.flush();
            }
        }
        catch (IOException | InterruptedException ended) {
            // one side closed the connection, or the link was closed
        }
        finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(Socket socket) {
        sockets.remove(socket);
        try {
            socket.close();
        }
        catch (IOException alreadyGone) {
            // nothing left to release
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        sockets.forEach(this::closeQuietly);
        pumps.shutdownNow();
    }
}
