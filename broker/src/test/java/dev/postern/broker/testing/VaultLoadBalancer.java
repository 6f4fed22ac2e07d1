package dev.postern.broker.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP load balancer on 127.0.0.1 in front of Vault nodes, as HAProxy in TCP mode or a
 * Kubernetes Service would be: it sends each new connection to the next node, round robin, among
 * those whose {@code GET /v1/sys/health?standbyok=true} answered 200 at the last check (active or
 * unsealed standby; sealed, uninitialised and dead nodes are left out). A node that refuses the
 * connection is marked down and the next one is tried. Connections already open stay on their
 * node until one side closes them. With no node up, a new connection is closed at once.
 */
public final class VaultLoadBalancer implements AutoCloseable {

    /** How often each node's health is checked, and how long a check may take. */
    public static final Duration CHECK_INTERVAL = Duration.ofMillis(250);

    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);

    private static final int CONNECT_TIMEOUT_MILLIS = 1000;

    private final List<URI> nodes;

    private final ServerSocket server;

    private final HttpClient health = HttpClient.newBuilder().connectTimeout(CHECK_TIMEOUT).build();

    private final Set<URI> up = ConcurrentHashMap.newKeySet();

    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    private final Map<URI, AtomicLong> connectionsPerNode = new ConcurrentHashMap<>();

    private final AtomicInteger next = new AtomicInteger();

    private final AtomicLong refused = new AtomicLong();

    private volatile boolean closed;

    private VaultLoadBalancer(List<URI> nodes, ServerSocket server) {
        this.nodes = List.copyOf(nodes);
        this.server = server;
        nodes.forEach(node -> connectionsPerNode.put(node, new AtomicLong()));
    }

    /** Starts balancing over {@code nodes} (API addresses such as {@code http://127.0.0.1:8200}). */
    public static VaultLoadBalancer start(List<URI> nodes) {
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress("127.0.0.1", 0), 200);
            VaultLoadBalancer balancer = new VaultLoadBalancer(nodes, server);
            balancer.checkAll();
            Thread.ofVirtual().name("vault-lb-health").start(balancer::checkLoop);
            Thread.ofVirtual().name("vault-lb-accept").start(balancer::acceptLoop);
            return balancer;
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not start the load balancer on 127.0.0.1", ex);
        }
    }

    /** The address clients use, {@code http://127.0.0.1:PORT}. */
    public String address() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** The nodes that passed their last health check. */
    public Set<URI> nodesUp() {
        return Set.copyOf(up);
    }

    /** Connections sent to each node so far. */
    public Map<URI, Long> connectionsPerNode() {
        Map<URI, Long> counts = new LinkedHashMap<>();
        nodes.forEach(node -> counts.put(node, connectionsPerNode.get(node).get()));
        return counts;
    }

    /** Client connections closed at once because no node was up or every node refused. */
    public long refusedConnections() {
        return refused.get();
    }

    private void checkLoop() {
        while (!closed) {
            checkAll();
            try {
                Thread.sleep(CHECK_INTERVAL);
            }
            catch (InterruptedException ex) {
                return;
            }
        }
    }

    private void checkAll() {
        for (URI node : nodes) {
            if (passes(node)) {
                up.add(node);
            }
            else {
                up.remove(node);
            }
        }
    }

    private boolean passes(URI node) {
        try {
            HttpResponse<Void> answer = health.send(HttpRequest.newBuilder(node.resolve("/v1/sys/health?standbyok=true"))
                .timeout(CHECK_TIMEOUT)
                .build(), HttpResponse.BodyHandlers.discarding());
            return answer.statusCode() == 200;
        }
        catch (IOException ex) {
            return false;
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            }
            catch (IOException ex) {
                return; // closed
            }
            Thread.ofVirtual().start(() -> forward(client));
        }
    }

    private void forward(Socket client) {
        Socket backend = connectToNodeUp();
        if (backend == null) {
            refused.incrementAndGet();
            closeQuietly(client);
            return;
        }
        open.add(client);
        open.add(backend);
        Thread.ofVirtual().start(() -> pump(backend, client));
        pump(client, backend);
    }

    /** The next node that is up and accepts the connection; a node that refuses is marked down. */
    private Socket connectToNodeUp() {
        for (int tries = 0; tries < nodes.size(); tries++) {
            URI node = nodes.get(Math.floorMod(next.getAndIncrement(), nodes.size()));
            if (!up.contains(node)) {
                continue;
            }
            Socket socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(node.getHost(), node.getPort()), CONNECT_TIMEOUT_MILLIS);
                connectionsPerNode.get(node).incrementAndGet();
                return socket;
            }
            catch (IOException ex) {
                up.remove(node);
                closeQuietly(socket);
            }
        }
        return null;
    }

    /** Copies one direction until it ends, then closes both sockets (HTTP clients never half-close). */
    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream()) {
            OutputStream out = to.getOutputStream();
            int read;
            while ((read = in.read(buffer)) >= 0) {
                out.write(buffer, 0, read);
                out.flush();
            }
        }
        catch (IOException ex) {
            // reset or closed by the other pump: the connection is over either way
        }
        finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(Socket socket) {
        open.remove(socket);
        try {
            socket.close();
        }
        catch (IOException ex) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        }
        catch (IOException ex) {
            // already closed
        }
        List.copyOf(open).forEach(this::closeQuietly);
    }
}
