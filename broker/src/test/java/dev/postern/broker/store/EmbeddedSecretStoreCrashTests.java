package dev.postern.broker.store;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kill -9} of a process in the middle of a write loop leaves a readable store that holds
 * every acknowledged write.
 */
class EmbeddedSecretStoreCrashTests {

    @TempDir
    Path folder;

    @Test
    void killNineDuringWritesThenEveryAcknowledgedWriteSurvives() throws Exception {
        byte[] keyBytes = new byte[32];
        new SecureRandom().nextBytes(keyBytes);
        String key = Base64.getEncoder().encodeToString(keyBytes);
        Path file = folder.resolve("store.bin");
        int lastAcknowledged = 0;

        for (int round = 1; round <= 3; round++) {
            int target = lastAcknowledged + 50 + new SecureRandom().nextInt(100);
            Process writer = new ProcessBuilder(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                    System.getProperty("java.class.path"), EmbeddedStoreWriter.class.getName(), file.toString(), key))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
            try (BufferedReader acks = new BufferedReader(
                    new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = acks.readLine()) != null) {
                    if (!line.startsWith("ack ")) {
                        continue; // the child's log lines
                    }
                    lastAcknowledged = Integer.parseInt(line.substring("ack ".length()));
                    if (lastAcknowledged >= target) {
                        // SIGKILL: no shutdown hook, no flush, mid-write. Through the handle, which keeps stdout open.
                        writer.toHandle().destroyForcibly();
                        break;
                    }
                }
                assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
                // Acks printed before the kill landed are acknowledged writes too.
                while ((line = acks.readLine()) != null) {
                    if (line.matches("ack \\d+")) {
                        lastAcknowledged = Integer.parseInt(line.substring("ack ".length()));
                    }
                }
            }
            assertThat(writer.exitValue()).as("killed by SIGKILL").isEqualTo(137);

            try (EmbeddedSecretStore reopened = new EmbeddedSecretStore(file, MasterKeys.fromBase64(key))) {
                StoredDocument counter = reopened.read(SecretPath.of(StoreCollection.SYSTEM, "counter")).orElseThrow();
                int stored = ((Number) counter.document().data().get("value")).intValue();
                assertThat(stored).as("round %d", round).isGreaterThanOrEqualTo(lastAcknowledged);
                assertThat(counter.document().secret("token")).isEqualTo("rt-" + stored);
                lastAcknowledged = stored;
                System.out.printf("[kill -9] round %d: killed after ack %d, store holds %d%n", round, target, stored);
            }
        }
    }
}
