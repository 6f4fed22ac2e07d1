package dev.postern.broker.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store's AES-256 key: given as base64 ({@code POSTERN_MASTER_KEY}) or kept in a
 * key file that is generated with mode 0600 on the first start.
 */
public final class MasterKeys {

    private static final Logger log = LoggerFactory.getLogger(MasterKeys.class);

    private static final int KEY_BYTES = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private MasterKeys() {
    }

    /** Decodes a base64 (standard or URL-safe) 256-bit key. */
    public static SecretKey fromBase64(String encoded) {
        byte[] bytes;
        try {
            String trimmed = encoded.trim();
            bytes = trimmed.contains("-") || trimmed.contains("_")
                    ? Base64.getUrlDecoder().decode(trimmed) : Base64.getDecoder().decode(trimmed);
        }
        catch (IllegalArgumentException ex) {
            throw new SecretStoreException("the master key is not valid base64");
        }
        if (bytes.length != KEY_BYTES) {
            throw new SecretStoreException("the master key must be 32 bytes (256 bits), base64 encoded");
        }
        return new SecretKeySpec(bytes, "AES");
    }

    /** Reads the key file, creating it with a new random key (mode 0600) when it is missing. */
    public static SecretKey fromKeyFile(Path keyFile) {
        try {
            Files.createDirectories(keyFile.toAbsolutePath().getParent());
            if (!Files.exists(keyFile)) {
                create(keyFile);
            }
            return fromBase64(Files.readString(keyFile, StandardCharsets.US_ASCII));
        }
        catch (IOException ex) {
            throw new SecretStoreException("cannot read or create the master key file " + keyFile, ex);
        }
    }

    private static void create(Path keyFile) throws IOException {
        byte[] bytes = new byte[KEY_BYTES];
        RANDOM.nextBytes(bytes);
        try {
            Files.createFile(keyFile,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        catch (FileAlreadyExistsException ex) {
            return; // another start created it a moment ago; use that one
        }
        Files.writeString(keyFile, Base64.getEncoder().encodeToString(bytes), StandardCharsets.US_ASCII,
                StandardOpenOption.WRITE, StandardOpenOption.SYNC);
        log.info("Generated a new master key for the embedded store at {} (mode 0600); back it up with the store",
                keyFile);
    }
}
