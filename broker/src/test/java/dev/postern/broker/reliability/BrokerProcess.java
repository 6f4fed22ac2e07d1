package dev.postern.broker.reliability;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.postern.broker.PosternApplication;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestBroker;
import dev.postern.broker.testing.TestVault;

/**
 * A broker in a child JVM ({@code java -cp <this JVM's class path> dev.postern.broker.PosternApplication}),
 * configured like {@link TestBroker}, so a test can kill it with SIGKILL and start another on the
 * same Vault prefix, or run two side by side as two replicas. Its output goes to a file under
 * {@code target/broker-processes/}; a child still running when this JVM exits is killed.
 */
final class BrokerProcess implements AutoCloseable {

    /** How long a start may take on a loaded 2-core machine before the test fails. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    /** Children not yet stopped; the shutdown hook kills them, so none outlives the test JVM. */
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly)));
    }

    final String name;

    final Process process;

    final BrokerClient api;

    final Path log;

    private BrokerProcess(String name, Process process, BrokerClient api, Path log) {
        this.name = name;
        this.process = process;
        this.api = api;
        this.log = log;
    }

    /**
     * Starts a broker named {@code name} (for its log file) on {@code vault} under {@code prefix} with
     * {@code adminKey} as its bootstrap admin, plus {@code extra} properties, and waits until
     * {@code /actuator/health} answers 200.
     */
    static BrokerProcess start(String name, TestVault vault, String prefix, String adminKey, Map<String, Object> extra) {
        int port = TestVault.freePort();
        Map<String, Object> properties = TestBroker.properties(vault.address(), vault.rootToken(), prefix, port, adminKey);
        properties.putAll(extra);
        // C1 only and the serial collector: half the CPU of a default start (about 10 s instead of 16-20 s measured
        // here), which on a loaded 2-core machine is most of a test's time; the runs are I/O-bound, not JIT-bound.
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                PosternApplication.class.getName()));
        long started = System.nanoTime();
        try {
            Path folder = Files.createDirectories(targetFolder().resolve("broker-processes"));
            Path log = folder.resolve(name + "-" + System.currentTimeMillis() + ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            // The environment, not the command line: the Vault token and the admin key stay out of `ps`.
            // SPRING_APPLICATION_JSON outranks application.yml and its ${ENV:default} values.
            builder.environment().put("SPRING_APPLICATION_JSON", BrokerClient.JSON.writeValueAsString(properties));
            Process process = builder.start();
            RUNNING.add(process);
            BrokerProcess broker = new BrokerProcess(name, process, new BrokerClient(port, adminKey), log);
            broker.awaitHealthy(started);
            System.out.printf("[broker-process] %s: pid %d on port %d healthy after %d ms (%d ms of CPU), log %s%n", name,
                    process.pid(), port, (System.nanoTime() - started) / 1_000_000,
                    process.info().totalCpuDuration().map(Duration::toMillis).orElse(-1L), log);
            return broker;
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not start the broker process " + name, ex);
        }
    }

    private void awaitHealthy(long started) throws IOException {
        long deadline = started + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                RUNNING.remove(process);
                throw new IllegalStateException("the broker process " + name + " exited with " + process.exitValue()
                        + " at start; its log " + log + " ends with:\n" + tail());
            }
            try {
                if (api.call("GET", "/actuator/health", null, null).status() == 200) {
                    return;
                }
            }
            catch (IllegalStateException notListeningYet) {
                // connection refused until Tomcat listens
            }
            sleep(250);
        }
        kill();
        throw new IllegalStateException("the broker process " + name + " was not healthy within " + START_TIMEOUT
                + "; its log " + log + " ends with:\n" + tail());
    }

    /** SIGKILL ({@code destroyForcibly} on Linux): no shutdown hook, no flush. Returns the exit status, 137. */
    int kill() {
        process.destroyForcibly();
        return awaitExit(Duration.ofSeconds(20));
    }

    /**
     * SIGTERM ({@code destroy}): Spring's graceful shutdown. Returns the exit status (143, 128 + SIGTERM, even when
     * the shutdown went well); killed when it hangs.
     */
    int stop() {
        process.destroy();
        try {
            return awaitExit(Duration.ofSeconds(30));
        }
        catch (IllegalStateException hung) {
            return kill();
        }
    }

    /** Waits for the process to exit by itself; its exit status. */
    int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("the broker process " + name + " did not exit within " + timeout);
            }
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
        RUNNING.remove(process);
        return process.exitValue();
    }

    /** The last lines of the child's log, for a failure message. */
    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        }
        catch (IOException ex) {
            return "(unreadable: " + ex.getMessage() + ")";
        }
    }

    /** {@code broker/target}, found from where this class was loaded ({@code target/test-classes}). */
    private static Path targetFolder() {
        try {
            return Path.of(BrokerProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        }
        catch (URISyntaxException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop();
        }
    }
}
