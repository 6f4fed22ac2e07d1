package dev.postern.broker.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real OpenBao cluster for tests: {@code size} nodes of the cached {@code bao} binary (see
 * {@link TestVault#binary()}) with integrated storage (Raft), each with its own data folder under
 * {@code target/} and its own configuration file, listening on free loopback ports without TLS.
 * Node 1 is initialised with one key share and every node is unsealed with it; the others join
 * through {@code retry_join}. {@code start} returns once every node is a Raft voter and one is
 * active, with KV v2 at {@code secret/} and Transit at {@code transit/} (as {@link TestVault}'s dev
 * server has them). Nodes can be killed, stopped and restarted; the process of each is there for
 * other signals ({@code SIGSTOP}).
 *
 * <p>Raft runs at {@code performance_multiplier = 1}, its fastest timing (heartbeat and election
 * timeout 1 s, OpenBao's default is 5), so a new leader is elected within seconds. Autopilot
 * promotes a joined node to voter after 1 s of stability instead of 10 s, and checks every second.
 * {@code disable_standby_reads = true}, unless started with {@link #startWithStandbyReads}: since
 * OpenBao 2.5 standbys answer reads from their own, slightly late copy of the data, which Postern
 * cannot use (see {@code docs/vault.md}).
 * {@code disable_mlock} is left out: OpenBao 2.7 no longer knows it and warns.
 */
public final class TestVaultCluster implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** How long start-up may take: three JVM-free processes, but on a busy 2-core machine. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final List<Node> nodes;

    private final Path folder;

    private final boolean standbyReads;

    private String rootToken;

    private String unsealKey;

    /** While starting, a node that exits is a failure to report at once rather than after the timeout. */
    private volatile boolean starting = true;

    /** One OpenBao server of the cluster. */
    public static final class Node {

        private final String id;

        private final int apiPort;

        private final int clusterPort;

        private final Path dataDir;

        private final Path config;

        private final Path log;

        private volatile Process process;

        private Node(String id, int apiPort, int clusterPort, Path folder) {
            this.id = id;
            this.apiPort = apiPort;
            this.clusterPort = clusterPort;
            this.dataDir = folder.resolve(id);
            this.config = folder.resolve(id + ".hcl");
            this.log = folder.resolve(id + ".log");
        }

        /** The node id in Raft, {@code node1} … */
        public String id() {
            return id;
        }

        /** Its API address, {@code http://127.0.0.1:PORT}, which is also its {@code api_addr}. */
        public String address() {
            return "http://127.0.0.1:" + apiPort;
        }

        public int apiPort() {
            return apiPort;
        }

        /** The running server process. */
        public Process process() {
            return process;
        }

        public Path log() {
            return log;
        }

        public boolean isAlive() {
            return process != null && process.isAlive();
        }

        @Override
        public String toString() {
            return id + "@" + apiPort;
        }
    }

    private TestVaultCluster(Path folder, List<Node> nodes, boolean standbyReads) {
        this.folder = folder;
        this.nodes = nodes;
        this.standbyReads = standbyReads;
    }

    /**
     * Starts a cluster of {@code size} nodes where standbys forward every request to the active
     * node, and waits until all are unsealed voters with one active node and the secrets engines
     * enabled. Fails with the nodes' logs when it cannot.
     */
    public static TestVaultCluster start(int size) {
        return start(size, false);
    }

    /** Like {@link #start}, with OpenBao's default: standbys answer reads themselves. */
    public static TestVaultCluster startWithStandbyReads(int size) {
        return start(size, true);
    }

    private static TestVaultCluster start(int size, boolean standbyReads) {
        Path binary = TestVault.binary();
        long started = System.nanoTime();
        Path folder;
        try {
            Files.createDirectories(Path.of("target"));
            folder = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "vault-cluster-");
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not create the cluster's folder under target/", ex);
        }
        List<Node> nodes = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            nodes.add(new Node("node" + i, TestVault.freePort(), TestVault.freePort(), folder));
        }
        TestVaultCluster cluster = new TestVaultCluster(folder, nodes, standbyReads);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::close));
        try {
            for (Node node : nodes) {
                Files.createDirectories(node.dataDir);
                Files.writeString(node.config, cluster.configOf(node));
                cluster.launch(binary, node);
            }
            cluster.initialise();
            cluster.enableSecretsEngines();
            cluster.starting = false;
        }
        catch (IOException | RuntimeException ex) {
            String logs = cluster.logs();
            cluster.close();
            throw new IllegalStateException("the OpenBao cluster did not start: " + ex.getMessage() + "\n" + logs, ex);
        }
        System.out.println("[test-vault] started a " + size + "-node OpenBao Raft cluster " + nodes
                + (standbyReads ? " with standby reads" : "") + " in "
                + (System.nanoTime() - started) / 1_000_000 + " ms (folder " + folder + ")");
        return cluster;
    }

    private String configOf(Node node) {
        StringBuilder joins = new StringBuilder();
        for (Node other : nodes) {
            if (other != node) {
                joins.append("  retry_join {\n    leader_api_addr = \"").append(other.address()).append("\"\n  }\n");
            }
        }
        return """
                # Written by TestVaultCluster for one test run: loopback only, no TLS.
                disable_standby_reads = %s
                storage "raft" {
                  path                         = "%s"
                  node_id                      = "%s"
                  performance_multiplier       = 1
                  autopilot_reconcile_interval = "1s"
                  autopilot_update_interval    = "500ms"
                %s}
                listener "tcp" {
                  address         = "127.0.0.1:%d"
                  cluster_address = "127.0.0.1:%d"
                  tls_disable     = true
                }
                api_addr     = "%s"
                cluster_addr = "https://127.0.0.1:%d"
                """.formatted(!standbyReads, node.dataDir, node.id, joins, node.apiPort, node.clusterPort, node.address(),
                node.clusterPort);
    }

    private void launch(Path binary, Node node) throws IOException {
        node.process = new ProcessBuilder(binary.toString(), "server", "-config=" + node.config)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(node.log.toFile()))
            .start();
    }

    private void initialise() {
        Node first = nodes.getFirst();
        // The first answer can be an error while the node's own retry_join loop is still running.
        JsonNode init = await("node1 to accept initialisation", () -> {
            HttpResponse<String> answer = call(first, "PUT", "sys/init", "{\"secret_shares\":1,\"secret_threshold\":1}", null);
            return answer != null && answer.statusCode() == 200 ? Optional.of(JSON.readTree(answer.body())) : Optional.empty();
        });
        rootToken = init.path("root_token").asString();
        unsealKey = init.path("keys").path(0).asString();
        unseal(first);
        await("node1 to become active", () -> healthStatus(first) == 200 ? Optional.of(true) : Optional.empty());
        // Promote joined nodes to voters after 1 s of stability (default 10 s), so start-up stays short.
        requireOk(call(first, "POST", "sys/storage/raft/autopilot/configuration", "{\"server_stabilization_time\":\"1s\"}",
                rootToken), "configure autopilot");
        for (Node node : nodes.subList(1, nodes.size())) {
            // retry_join fetches the cluster's challenge every 2 s; the node reports itself initialised once it has it.
            await(node.id + " to join", () -> sealStatus(node).path("initialized").asBoolean() ? Optional.of(true)
                    : Optional.empty());
            unseal(node);
        }
        await("every node to be an unsealed voter", () -> {
            long voters = voters().stream().filter(server -> server.path("voter").asBoolean()).count();
            boolean unsealed = nodes.stream().allMatch(node -> !sealStatus(node).path("sealed").asBoolean(true));
            return voters == nodes.size() && unsealed ? Optional.of(true) : Optional.empty();
        });
        awaitLeader(START_TIMEOUT);
    }

    private void unseal(Node node) {
        requireOk(call(node, "PUT", "sys/unseal", "{\"key\":\"" + unsealKey + "\"}", null), "unseal " + node.id);
    }

    private void enableSecretsEngines() {
        Node active = leader().orElseThrow();
        requireOk(call(active, "POST", "sys/mounts/secret", "{\"type\":\"kv\",\"options\":{\"version\":\"2\"}}", rootToken),
                "enable KV v2 at secret/");
        requireOk(call(active, "POST", "sys/mounts/transit", "{\"type\":\"transit\"}", rootToken), "enable Transit");
        // A new KV v2 mount answers 400 "Waiting for the primary to upgrade…" for a moment.
        await("KV v2 to accept writes", () -> {
            HttpResponse<String> write = call(active, "POST", "secret/data/test-cluster-probe", "{\"data\":{\"ready\":\"yes\"}}",
                    rootToken);
            return write != null && write.statusCode() == 200 ? Optional.of(true) : Optional.empty();
        });
        // With standby reads, a standby knows the new mounts only once it has caught up.
        for (Node node : nodes) {
            await(node.id + " to read KV", () -> {
                HttpResponse<String> read = call(node, "GET", "secret/data/test-cluster-probe", null, rootToken);
                return read != null && read.statusCode() == 200 ? Optional.of(true) : Optional.empty();
            });
        }
    }

    /** Every node, in order. */
    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** The API addresses of every node, for a load balancer. */
    public List<URI> addresses() {
        return nodes.stream().map(node -> URI.create(node.address())).toList();
    }

    public String rootToken() {
        return rootToken;
    }

    /** The active node, when a live node reports itself active. */
    public Optional<Node> leader() {
        for (Node node : nodes) {
            if (node.isAlive() && healthStatus(node) == 200) {
                return Optional.of(node);
            }
        }
        return Optional.empty();
    }

    /** Waits until a live node is active and returns it. */
    public Node awaitLeader(Duration timeout) {
        return await("an active node", timeout, this::leader);
    }

    /**
     * The Raft peers as the active node lists them ({@code bao operator raft list-peers}):
     * {@code node_id}, {@code address}, {@code leader}, {@code voter}.
     */
    public List<JsonNode> voters() {
        Node active = leader().orElse(null);
        if (active == null) {
            return List.of();
        }
        HttpResponse<String> answer = call(active, "GET", "sys/storage/raft/configuration", null, rootToken);
        if (answer == null || answer.statusCode() != 200) {
            return List.of();
        }
        List<JsonNode> servers = new ArrayList<>();
        JSON.readTree(answer.body()).path("data").path("config").path("servers").forEach(servers::add);
        return servers;
    }

    /** {@code SIGKILL}: the node dies at once, as in a crash; its data stays. */
    public void kill(Node node) {
        node.process.destroyForcibly();
        waitForExit(node);
    }

    /** {@code SIGTERM}: the node shuts down cleanly (a leader steps down first). */
    public void stop(Node node) {
        node.process.destroy();
        waitForExit(node);
    }

    /** Starts a stopped or killed node again on its data; it rejoins as a standby once unsealed. */
    public void restart(Node node) {
        if (node.isAlive()) {
            throw new IllegalStateException(node + " is still running");
        }
        try {
            launch(TestVault.binary(), node);
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not start " + node, ex);
        }
        await(node + " to listen", () -> sealStatus(node).has("sealed") ? Optional.of(true) : Optional.empty());
        unseal(node);
    }

    private static void waitForExit(Node node) {
        try {
            if (!node.process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(node + " did not exit");
            }
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    /** The status of {@code /v1/sys/health} on {@code node} (200 active, 429 standby, 503 sealed), or -1. */
    public static int healthStatus(Node node) {
        // Short: a stopped (SIGSTOP) node accepts the connection and never answers.
        HttpResponse<String> answer = call(node, "GET", "sys/health", null, null, Duration.ofSeconds(1));
        return answer == null ? -1 : answer.statusCode();
    }

    private static JsonNode sealStatus(Node node) {
        HttpResponse<String> answer = call(node, "GET", "sys/seal-status", null, null, Duration.ofSeconds(1));
        return answer == null || answer.statusCode() != 200 ? JSON.missingNode() : JSON.readTree(answer.body());
    }

    /** Sends a request to one node's API; {@code null} when it does not answer. */
    public HttpResponse<String> api(Node node, String method, String path, String jsonBody) {
        return call(node, method, path, jsonBody, rootToken);
    }

    private static HttpResponse<String> call(Node node, String method, String path, String jsonBody, String token) {
        return call(node, method, path, jsonBody, token, Duration.ofSeconds(5));
    }

    private static HttpResponse<String> call(Node node, String method, String path, String jsonBody, String token,
            Duration timeout) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(node.address() + "/v1/" + path))
            .timeout(timeout)
            .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody));
        if (token != null) {
            request.header("X-Vault-Token", token);
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (IOException ex) {
            return null;
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    private static void requireOk(HttpResponse<String> answer, String what) {
        if (answer == null || answer.statusCode() / 100 != 2) {
            throw new IllegalStateException("could not " + what + ": "
                    + (answer == null ? "no answer" : answer.statusCode() + " " + answer.body()));
        }
    }

    private <T> T await(String what, Supplier<Optional<T>> condition) {
        return await(what, START_TIMEOUT, condition);
    }

    private <T> T await(String what, Duration timeout, Supplier<Optional<T>> condition) {
        Instant deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            for (Node node : nodes) {
                if (starting && node.process != null && !node.process.isAlive()) {
                    throw new IllegalStateException(node + " exited with " + node.process.exitValue());
                }
            }
            Optional<T> result = condition.get();
            if (result.isPresent()) {
                return result.get();
            }
            try {
                Thread.sleep(100);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", ex);
            }
        }
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
    }

    /** The tail of every node's log, for a failure message. */
    public String logs() {
        StringBuilder out = new StringBuilder();
        for (Node node : nodes) {
            out.append("--- ").append(node).append(" (").append(node.log).append(")\n");
            try {
                List<String> lines = Files.exists(node.log) ? Files.readAllLines(node.log) : List.of();
                lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(line -> out.append(line).append('\n'));
            }
            catch (IOException ex) {
                out.append("(unreadable: ").append(ex.getMessage()).append(")\n");
            }
        }
        return out.toString();
    }

    public Path folder() {
        return folder;
    }

    @Override
    public void close() {
        for (Node node : nodes) {
            Process process = node.process;
            if (process != null && process.isAlive()) {
                process.destroy();
            }
        }
        for (Node node : nodes) {
            Process process = node.process;
            if (process == null) {
                continue;
            }
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
