package dev.postern.broker.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of this repository, found from a test's working directory (the module or the repository root). */
final class RepositoryFiles {

    private RepositoryFiles() {
    }

    /** {@code relative} (for example {@code scripts/mail-peers}) in the nearest folder above the working directory that has it. */
    static Path find(String relative) {
        for (Path folder = Path.of("").toAbsolutePath(); folder != null; folder = folder.getParent()) {
            Path candidate = folder.resolve(relative);
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }
}
