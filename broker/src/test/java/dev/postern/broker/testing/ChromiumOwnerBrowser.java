package dev.postern.broker.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import tools.jackson.databind.json.JsonMapper;

/**
 * A mailbox owner's real browser: Debian's Chromium, driven through playwright-core by
 * {@code broker/src/test/node/chromium-owner-browser.cjs}, opens a connect link, signs in on the
 * identity provider's page and follows it back to the broker. It trusts the provider's test
 * certificate by its key alone (an SPKI pin), not by switching certificate checks off. A browser
 * start costs seconds and gives no raw control over requests, so tests that attack the flow keep
 * {@link OwnerBrowser}.
 */
public final class ChromiumOwnerBrowser {

    /** Chromium's start, two pages of the provider and the broker's code exchange, on a busy machine. */
    private static final Duration TIME_LIMIT = Duration.ofSeconds(90);

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final TestIdentityProvider idp;

    /** A document the browser's main frame loaded; a redirect is one of them. The {@code code} parameter is redacted. */
    public record Document(String method, URI url, int status) {
    }

    /** A cookie the browser holds for the final page, without its value. */
    public record Cookie(String name, String domain, String path, boolean httpOnly, boolean secure, String sameSite) {
    }

    /**
     * Where the sign-in ended and what the owner saw.
     *
     * @param url the final page's address
     * @param status its HTTP status
     * @param text the page's visible text
     * @param documents every page and redirect on the way, in order
     * @param blocked origins the browser tried to reach off 127.0.0.1 and was refused
     */
    public record SignIn(URI url, int status, String title, String text, List<Document> documents, List<Cookie> cookies,
            List<String> blocked) {
    }

    public ChromiumOwnerBrowser(TestIdentityProvider idp) {
        this.idp = idp;
    }

    /**
     * Opens {@code link} in a fresh Chromium profile, signs in on the provider's page as
     * {@code username} and returns the page the broker answered with. Fails with the script's
     * error output when node, playwright-core or Chromium is missing, or when a step does not
     * happen within its time (20 s a step, 90 s in all); the script leaves screenshots of the
     * sign-in page and of the last page in {@code broker/target/chromium-owner-browser}.
     */
    public SignIn connect(URI link, String username) {
        Path script = RepositoryFiles.find("broker/src/test/node/chromium-owner-browser.cjs");
        Path nodeModules = RepositoryFiles.find("admin-ui").resolve("node_modules");
        Path screenshots = Path.of(System.getProperty("basedir", ""), "target", "chromium-owner-browser").toAbsolutePath();
        long started = System.nanoTime();
        try {
            Path dir = Files.createTempDirectory("postern-chromium-owner-");
            Path out = dir.resolve("stdout.json");
            Path err = dir.resolve("stderr.txt");
            ProcessBuilder builder = new ProcessBuilder(List.of("node", script.toString(), link.toString(), username,
                    idp.serverKeyPin()))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile());
            Map<String, String> environment = builder.environment();
            // The admin UI module's npm ci installs playwright-core; the script takes it from there.
            environment.put("NODE_PATH", nodeModules.toString());
            environment.put("SCREENSHOT_DIR", screenshots.toString());
            Process process;
            try {
                process = builder.start();
            }
            catch (IOException ex) {
                throw new IllegalStateException("could not run node (Debian's nodejs; scripts/test installs it): " + ex.getMessage(), ex);
            }
            if (!process.waitFor(TIME_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
                // Chromium's processes first: killing node alone would leave them running.
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException("the owner's sign-in in Chromium did not finish within " + TIME_LIMIT.toSeconds()
                        + " s and was killed:\n" + Files.readString(err, StandardCharsets.UTF_8));
            }
            String errors = Files.readString(err, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException("the owner's sign-in in Chromium failed (exit " + process.exitValue()
                        + ", screenshots in " + screenshots + "):\n" + errors);
            }
            SignIn signIn = JSON.readValue(Files.readString(out, StandardCharsets.UTF_8), SignIn.class);
            // Kept only when something failed, for a look at what the script printed.
            Files.delete(out);
            Files.delete(err);
            Files.delete(dir);
            System.out.println("[chromium] " + username + " signed in through " + signIn.documents().size()
                    + " pages and redirects in " + (System.nanoTime() - started) / 1_000_000 + " ms, final page " + signIn.status()
                    + " " + signIn.url().getPath()
                    + (errors.isBlank() ? "" : "; the script said: " + errors.strip()));
            return signIn;
        }
        catch (IOException ex) {
            throw new IllegalStateException("could not run " + script, ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Chromium signed in", ex);
        }
    }
}
