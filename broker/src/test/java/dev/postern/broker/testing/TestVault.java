package dev.postern.broker.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.vault.VaultContainer;

/**
 * A real Vault-API server for tests: the one named by {@code VAULT_ADDR} and {@code VAULT_TOKEN}
 * when both are set, else a Testcontainers Vault when a Docker engine answers, else OpenBao's
 * {@code bao} binary that {@code scripts/vault-server install} cached outside the repository,
 * started in dev mode on 127.0.0.1. There is no fallback to "no Vault": a test that asks for one
 * and cannot have it fails.
 */
public final class TestVault implements AutoCloseable {

    /** The OpenBao release {@code scripts/vault-server} installs. */
    public static final String OPENBAO_VERSION = "2.7.2";

    private static TestVault shared;

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String address;

    private final String token;

    private final Process process;

    private final AutoCloseable container;

    private final HttpClient http;

    private final Path caCertificate;

    private TestVault(String address, String token, Process process, AutoCloseable container) {
        this(address, token, process, container, HTTP, null);
    }

    private TestVault(String address, String token, Process process, AutoCloseable container, HttpClient http,
            Path caCertificate) {
        this.address = address;
        this.token = token;
        this.process = process;
        this.container = container;
        this.http = http;
        this.caCertificate = caCertificate;
    }

    /** The Vault shared by every test of this JVM, started on first use. */
    public static synchronized TestVault shared() {
        if (shared == null) {
            String address = System.getenv("VAULT_ADDR");
            String token = System.getenv("VAULT_TOKEN");
            if (address != null && !address.isBlank() && token != null && !token.isBlank()) {
                shared = new TestVault(address, token, null, null);
                System.out.println("[test-vault] using VAULT_ADDR " + address);
            }
            else if (dockerAnswers()) {
                shared = startContainer();
            }
            else {
                shared = startBinary();
            }
            shared.enableTransit();
            TestVault started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close));
        }
        return shared;
    }

    /**
     * A Vault of its own for a test that breaks it (seals it, stops it). Always the local binary,
     * so the test controls the process; the caller closes it.
     */
    public static TestVault dedicated() {
        TestVault vault = startBinary();
        vault.enableTransit();
        return vault;
    }

    /**
     * A Vault of its own on HTTPS: OpenBao's {@code -dev-tls}, which generates a CA and a
     * certificate for 127.0.0.1 at start ({@link #caCertificate()}). The caller closes it.
     */
    public static TestVault dedicatedTls() {
        TestVault vault = startBinary(true);
        vault.enableTransit();
        return vault;
    }

    /** The PEM file of the CA that signed this Vault's certificate; only for {@link #dedicatedTls()}. */
    public Path caCertificate() {
        if (caCertificate == null) {
            throw new IllegalStateException("this Vault does not use TLS");
        }
        return caCertificate;
    }

    public String address() {
        return address;
    }

    public String rootToken() {
        return token;
    }

    /** The process id of a locally started server, for tests that stop it. */
    public Process process() {
        if (process == null) {
            throw new IllegalStateException("this Vault was not started by the tests");
        }
        return process;
    }

    /** Sends an authenticated request to Vault's HTTP API and returns the answer. */
    public HttpResponse<String> api(String method, String path, String jsonBody) {
        return api(method, path, jsonBody, token);
    }

    /** Sends a request with {@code clientToken} to Vault's HTTP API and returns the answer. */
    public HttpResponse<String> api(String method, String path, String jsonBody, String clientToken) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(address + "/v1/" + path))
            .timeout(Duration.ofSeconds(10))
            .header("X-Vault-Token", clientToken)
            .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody));
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (IOException ex) {
            throw new IllegalStateException("Vault at " + address + " did not answer " + method + " " + path, ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", ex);
        }
    }

    private void enableTransit() {
        HttpResponse<String> mounts = api("GET", "sys/mounts/transit", null);
        if (mounts.statusCode() == 200) {
            return;
        }
        HttpResponse<String> response = api("POST", "sys/mounts/transit", "{\"type\":\"transit\"}");
        if (response.statusCode() / 100 != 2 && !response.body().contains("path is already in use")) {
            throw new IllegalStateException("could not enable Transit on " + address + ": " + response.statusCode()
                    + " " + response.body());
        }
    }

    private static boolean dockerAnswers() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        }
        catch (RuntimeException | LinkageError ex) {
            return false;
        }
    }

    private static TestVault startContainer() {
        String token = randomToken();
        VaultContainer<?> container = new VaultContainer<>("openbao/openbao:" + OPENBAO_VERSION).withVaultToken(token);
        container.start();
        System.out.println("[test-vault] started a Vault container at " + container.getHttpHostAddress());
        return new TestVault(container.getHttpHostAddress(), token, null, container);
    }

    /** The cached bao binary: {@code POSTERN_BAO}, else {@code $POSTERN_CACHE/bin/bao} (default {@code ~/.cache/postern}). */
    public static Path binary() {
        String configured = System.getenv("POSTERN_BAO");
        String cache = System.getenv("POSTERN_CACHE");
        Path path = configured != null && !configured.isBlank() ? Path.of(configured)
                : cache != null && !cache.isBlank() ? Path.of(cache, "bin", "bao")
                        : Path.of(System.getProperty("user.home"), ".cache", "postern", "bin", "bao");
        if (!Files.isExecutable(path)) {
            throw new IllegalStateException("No Vault for the tests: VAULT_ADDR/VAULT_TOKEN are not set, no Docker "
                    + "engine answers, and the OpenBao binary is missing at " + path
                    + ". Run scripts/vault-server install (scripts/test does it).");
        }
        return path;
    }

    private static TestVault startBinary() {
        return startBinary(false);
    }

    private static TestVault startBinary(boolean tls) {
        Path binary = binary();
        String token = randomToken();
        int port = freePort();
        String address = (tls ? "https" : "http") + "://127.0.0.1:" + port;
        try {
            Path log = Files.createTempFile("postern-test-vault-", ".log");
            List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), "server", "-dev",
                    "-dev-root-token-id=" + token, "-dev-listen-address=127.0.0.1:" + port, "-dev-no-store-token"));
            Path certificates = tls ? Files.createTempDirectory("postern-test-vault-tls-") : null;
            if (tls) {
                command.addAll(List.of("-dev-tls", "-dev-tls-cert-dir=" + certificates));
            }
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            TestVault vault = tls ? trustingItsCa(address, token, process, certificates.resolve("vault-ca.pem"), log)
                    : new TestVault(address, token, process, null);
            vault.awaitReady(log);
            System.out.println("[test-vault] started OpenBao " + binary + " at " + address + " (pid " + process.pid()
                    + ", log " + log + ")");
            return vault;
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not start " + binary, ex);
        }
    }

    /** The server started with {@code -dev-tls}, once it has written its CA, with a client that trusts it. */
    private static TestVault trustingItsCa(String address, String token, Process process, Path ca, Path log)
            throws IOException {
        Instant deadline = Instant.now().plusSeconds(30);
        while (!Files.isRegularFile(ca) || Files.size(ca) == 0) {
            if (!process.isAlive() || Instant.now().isAfter(deadline)) {
                process.destroyForcibly();
                throw new IllegalStateException("the Vault server wrote no CA at " + ca + ":\n" + Files.readString(log));
            }
            sleep(100);
        }
        sleep(200); // the CA is written before the certificate and the listener
        HttpClient trusting = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(2))
            .sslContext(SslBundle.of(new PemSslStoreBundle(null, PemSslStoreDetails.forCertificates(ca.toUri().toString())))
                .createSslContext())
            .build();
        return new TestVault(address, token, process, null, trusting, ca);
    }

    private void awaitReady(Path log) throws IOException {
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the Vault server exited at start:\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(address + "/v1/sys/health"))
                    .timeout(Duration.ofSeconds(1))
                    .build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    return;
                }
            }
            catch (IOException ex) {
                // not listening yet
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", ex);
            }
            sleep(100);
        }
        process.destroyForcibly();
        throw new IllegalStateException("the Vault server did not answer within 30 s:\n" + Files.readString(log));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** A free TCP port on 127.0.0.1. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
        catch (IOException ex) {
            throw new IllegalStateException("no free port", ex);
        }
    }

    private static String randomToken() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return "root-" + HexFormat.of().formatHex(bytes);
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        if (container != null) {
            try {
                container.close();
            }
            catch (Exception ex) {
                System.err.println("[test-vault] could not stop the container: " + ex);
            }
        }
    }
}
