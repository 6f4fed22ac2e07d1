package dev.postern.broker.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * API keys: {@code pst_} followed by 256 random bits in base64url. Only a SHA-256 hash is
 * stored; the key's client id is derived from that hash, so a presented key is found with one
 * read and compared in constant time. A slow password hash is not needed: the key has 256 bits
 * of entropy, nothing to guess.
 */
public final class ApiKeys {

    /** Every generated key starts with this. */
    public static final String PREFIX = "pst_";

    /** The shortest key accepted, also for a key given at bootstrap. */
    public static final int MIN_LENGTH = 32;

    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {
    }

    /** A new random key. */
    public static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The SHA-256 of {@code key}, hex encoded: what is stored. */
    public static String hash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", ex);
        }
    }

    /** The id of the client that owns {@code key}: {@code cli_} and 16 hex digits of its hash. */
    public static String clientIdFor(String key) {
        return "cli_" + hash(key).substring(0, 16).toLowerCase(Locale.ROOT);
    }

    /** The public start of a key that identifies it in lists, such as {@code pst_Ab3dE6gH}. */
    public static String publicPrefix(String key) {
        return key.substring(0, Math.min(key.length(), PREFIX.length() + 8));
    }

    /** Whether two hex hashes are equal, compared in constant time. */
    public static boolean hashesMatch(String expected, String actual) {
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                actual.getBytes(StandardCharsets.US_ASCII));
    }
}
