package dev.postern.broker.store;

import java.security.SecureRandom;
import java.util.Locale;

/** Generates the ids that name documents: a short type prefix and 80 random bits. */
public final class StoreIds {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    private StoreIds() {
    }

    /** A new id such as {@code app_k3j5x7q2m4n6p8r2}: 80 random bits, enough to never collide. */
    public static String newId(String type) {
        return newId(type, 10);
    }

    /** A new id with 160 random bits, for ids that are also capabilities, such as a connect link in a URL. */
    public static String newUnguessableId(String type) {
        return newId(type, 20);
    }

    private static String newId(String type, int randomBytes) {
        if (!SecretPath.isValidId(type)) {
            throw new IllegalArgumentException("id type must be a valid id segment");
        }
        byte[] bytes = new byte[randomBytes];
        RANDOM.nextBytes(bytes);
        StringBuilder id = new StringBuilder(type.toLowerCase(Locale.ROOT)).append('_');
        long bits = 0;
        int available = 0;
        for (byte b : bytes) {
            bits = (bits << 8) | (b & 0xff);
            available += 8;
            while (available >= 5) {
                available -= 5;
                id.append(ALPHABET[(int) ((bits >> available) & 31)]);
            }
        }
        return id.toString();
    }
}
