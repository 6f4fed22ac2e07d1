package dev.postern.broker.expiry;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.postern.broker.testing.TestVault;

/**
 * A real SMTP server for tests: aiosmtpd ({@code python3 -m aiosmtpd -n}) on 127.0.0.1, whose
 * default handler prints every message it receives. Uses a Python that has aiosmtpd (Debian's
 * python3-aiosmtpd), else installs it once into a venv under {@code ~/.cache/postern}. Never
 * skips: without an SMTP server the test fails.
 */
final class LocalSmtpServer implements AutoCloseable {

    private static final String AIOSMTPD = "aiosmtpd==1.4.6";

    private final Process process;

    private final Path output;

    final int port;

    private LocalSmtpServer(Process process, Path output, int port) {
        this.process = process;
        this.output = output;
        this.port = port;
    }

    static LocalSmtpServer start() throws IOException, InterruptedException {
        String python = pythonWithAiosmtpd();
        int port = TestVault.freePort();
        Path output = Files.createTempFile("postern-smtp-", ".log");
        Process process = new ProcessBuilder(python, "-u", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("aiosmtpd exited: " + Files.readString(output));
            }
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return new LocalSmtpServer(process, output, port);
            }
            catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("aiosmtpd did not listen within 20 s: " + Files.readString(output));
    }

    private static String pythonWithAiosmtpd() throws IOException, InterruptedException {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            if (run(candidate, "-c", "import aiosmtpd") == 0) {
                return candidate;
            }
        }
        Path venv = Path.of(System.getProperty("user.home"), ".cache", "postern", "aiosmtpd-venv");
        Path python = venv.resolve("bin/python3");
        if (!Files.isExecutable(python) || run(python.toString(), "-c", "import aiosmtpd") != 0) {
            if (run("python3", "-m", "venv", venv.toString()) != 0
                    || run(python.toString(), "-m", "pip", "install", "--quiet", AIOSMTPD) != 0) {
                throw new IllegalStateException("could not install " + AIOSMTPD + " into " + venv
                        + "; install Debian's python3-aiosmtpd");
            }
        }
        return python.toString();
    }

    private static int run(String... command) throws IOException, InterruptedException {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
            return process.waitFor(300, TimeUnit.SECONDS) ? process.exitValue() : -1;
        }
        catch (IOException missing) {
            return -1;
        }
    }

    /** Everything the server printed: the received messages with their headers. */
    String received() throws IOException {
        return Files.readString(output, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
