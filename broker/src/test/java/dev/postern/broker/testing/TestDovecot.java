package dev.postern.broker.testing;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Real IMAP and SMTP peers for tests: Dovecot from Debian's packages, started rootless by
 * {@code scripts/mail-peers start-dovecot} on 127.0.0.1 and validating OAuth tokens with the keys
 * of a {@link TestIdentityProvider}; submission relays to an aiosmtpd sink whose maildir tests can
 * read. IMAP and submission listen in plaintext (with STARTTLS) and with implicit TLS; the server
 * certificate is for 127.0.0.1 and localhost, signed by a test CA ({@link #caFile()}). There is no fallback: without Dovecot installed the test fails and says how to install it.
 */
public final class TestDovecot {

    private static TestDovecot shared;

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

    private final Path script;

    private final Path dir;

    private final Properties env;

    private TestDovecot(Path script, Path dir, Properties env) {
        this.script = script;
        this.dir = dir;
        this.env = env;
    }

    /** Dovecot for {@link TestIdentityProvider#shared()}, shared by every test of this JVM and stopped at exit. */
    public static synchronized TestDovecot shared() {
        if (shared == null) {
            TestDovecot started = start(TestIdentityProvider.shared());
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop));
            shared = started;
        }
        return shared;
    }

    /** A Dovecot of its own that trusts {@code idp}; the caller stops it. */
    public static TestDovecot start(TestIdentityProvider idp) {
        if (!Files.isExecutable(Path.of("/usr/sbin/dovecot"))) {
            throw new IllegalStateException("Dovecot is not installed (no /usr/sbin/dovecot): "
                    + "run scripts/mail-peers install (scripts/test does it)");
        }
        Path script = script();
        try {
            Path dir = Files.createTempDirectory("postern-test-dovecot-");
            Path log = dir.resolve("start.log");
            ProcessBuilder builder = new ProcessBuilder(List.of(script.toString(), "start-dovecot", dir.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
            Map<String, String> environment = builder.environment();
            environment.put("IDP_ISSUER_URL", idp.issuerUrl());
            environment.put("IDP_CA_FILE", idp.caPemFile().toString());
            // Tokens carry azp = the client id; Dovecot looks the signing key up under that name.
            environment.put("IDP_CLIENT_IDS", TestIdentityProvider.CLIENT_ID);
            environment.put("DOVECOT_SCOPE", TestIdentityProvider.MAIL_SCOPE);
            long started = System.nanoTime();
            Process process = builder.start();
            if (!process.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("scripts/mail-peers start-dovecot did not finish within "
                        + START_TIMEOUT.toSeconds() + " s:\n" + read(log));
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("scripts/mail-peers start-dovecot failed (exit " + process.exitValue()
                        + "):\n" + read(log) + "\n" + read(dir.resolve("dovecot.log")));
            }
            Properties env = new Properties();
            try (Reader reader = Files.newBufferedReader(dir.resolve("mail.env"))) {
                env.load(reader);
            }
            TestDovecot dovecot = new TestDovecot(script, dir, env);
            System.out.println("[test-dovecot] Dovecot IMAP " + dovecot.imapHost() + ":" + dovecot.imapPort()
                    + ", submission " + dovecot.smtpHost() + ":" + dovecot.smtpPort() + ", started in "
                    + (System.nanoTime() - started) / 1_000_000 + " ms (folder " + dir + ")");
            return dovecot;
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not run " + script + " start-dovecot", ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting Dovecot", ex);
        }
    }

    /** {@code scripts/mail-peers}, found from the working directory (the module or the repository root). */
    static Path script() {
        return RepositoryFiles.find("scripts/mail-peers");
    }

    public String imapHost() {
        return env.getProperty("IMAP_HOST");
    }

    public int imapPort() {
        return Integer.parseInt(env.getProperty("IMAP_PORT"));
    }

    /** IMAP with implicit TLS. */
    public int imapsPort() {
        return Integer.parseInt(env.getProperty("IMAPS_PORT"));
    }

    /** Submission with implicit TLS. */
    public int smtpsPort() {
        return Integer.parseInt(env.getProperty("SMTPS_PORT"));
    }

    /** The test CA (PEM) that signed Dovecot's certificate. */
    public Path caFile() {
        return Path.of(env.getProperty("MAIL_CA_FILE"));
    }

    public String smtpHost() {
        return env.getProperty("SMTP_HOST");
    }

    public int smtpPort() {
        return Integer.parseInt(env.getProperty("SMTP_PORT"));
    }

    /** Where the relay sink stores what submission forwarded (a maildir: new/ holds the messages). */
    public Path sinkMaildir() {
        return Path.of(env.getProperty("SINK_MAILDIR"));
    }

    /** Dovecot's log, for failure messages: it says why a login was refused. */
    public String log() {
        return read(dir.resolve("dovecot.log"));
    }

    /** Waits until the sink has received a message containing {@code marker}, and returns it. */
    public Optional<String> awaitRelayed(String marker, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        do {
            try (Stream<Path> messages = Files.list(sinkMaildir().resolve("new"))) {
                Optional<String> found = messages.map(TestDovecot::read).filter(m -> m.contains(marker)).findFirst();
                if (found.isPresent()) {
                    return found;
                }
            }
            catch (IOException ex) {
                // the sink writes the maildir; not there yet
            }
            try {
                Thread.sleep(50);
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        while (Instant.now().isBefore(deadline));
        return Optional.empty();
    }

    /** Stops Dovecot and the sink by their pids. */
    public void stop() {
        try {
            Process process = new ProcessBuilder(List.of(script.toString(), "stop-dovecot", dir.toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                System.err.println("[test-dovecot] stop-dovecot did not finish in time; folder " + dir);
            }
        }
        catch (IOException ex) {
            System.err.println("[test-dovecot] could not stop Dovecot: " + ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        }
        catch (IOException ex) {
            return "(" + file + " unreadable: " + ex.getMessage() + ")";
        }
    }
}
