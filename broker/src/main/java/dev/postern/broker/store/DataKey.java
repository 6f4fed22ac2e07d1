package dev.postern.broker.store;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KDF;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.HKDFParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One data key of the Vault store's envelope format: 256 random bits that Transit generated and
 * wrapped ({@code transit/datakey}), used here to encrypt secret fields (AES-256-GCM) and to MAC
 * documents (HMAC-SHA256) without a Transit call. Two subkeys are derived from it with HKDF-SHA256
 * (JDK's {@link KDF}), one per purpose, so no key is used for both. The raw key is wiped once they
 * are derived; neither subkey nor the raw key is ever printed ({@link #toString()}).
 *
 * <p>It counts its encryptions, so the store can replace it long before random 96-bit nonces
 * come near a collision (see {@link DataKeys}).
 */
final class DataKey {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static final int KEY_BYTES = 32;

    private static final int NONCE_BYTES = 12;

    private static final int TAG_BITS = 128;

    private final String wrapped;

    private final SecretKey encryptionKey;

    private final SecretKey macKey;

    private final Instant created;

    private final AtomicLong encryptions = new AtomicLong();

    /**
     * @param wrapped the key as Transit wrapped it, stored with every document it encrypts
     * @param plaintext the key's 32 bytes; wiped here
     * @param created when this process got it (for rotation by age)
     */
    DataKey(String wrapped, byte[] plaintext, Instant created) {
        try {
            if (plaintext.length != KEY_BYTES) {
                throw new SecretStoreException("Transit returned a data key of " + plaintext.length
                        + " bytes; Postern needs 32 (256 bits)");
            }
            this.wrapped = wrapped;
            this.created = created;
            this.encryptionKey = derive(plaintext, "postern-v3 secret encryption", "AES");
            this.macKey = derive(plaintext, "postern-v3 document mac", "HmacSHA256");
        }
        finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    private static SecretKey derive(byte[] key, String purpose, String algorithm) {
        try {
            return KDF.getInstance("HKDF-SHA256")
                .deriveKey(algorithm, HKDFParameterSpec.ofExtract()
                    .addIKM(new SecretKeySpec(key, "HKDF"))
                    .thenExpand(purpose.getBytes(java.nio.charset.StandardCharsets.UTF_8), KEY_BYTES));
        }
        catch (GeneralSecurityException ex) {
            throw new IllegalStateException("every JDK 25 has HKDF-SHA256", ex);
        }
    }

    String wrapped() {
        return wrapped;
    }

    Instant created() {
        return created;
    }

    /** Counts {@code count} encryptions against this key; returns the total so far. */
    long reserve(int count) {
        return encryptions.addAndGet(count);
    }

    /** AES-256-GCM with a random 96-bit nonce: nonce followed by ciphertext and tag. */
    byte[] seal(byte[] plaintext, byte[] associatedData) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, encryptionKey, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(associatedData);
            byte[] sealed = Arrays.copyOf(nonce, NONCE_BYTES + cipher.getOutputSize(plaintext.length));
            cipher.doFinal(plaintext, 0, plaintext.length, sealed, NONCE_BYTES);
            return sealed;
        }
        catch (GeneralSecurityException ex) {
            throw new IllegalStateException("every JDK has AES-GCM", ex);
        }
    }

    /** The plaintext, or null when {@code sealed} was not sealed by this key for {@code associatedData}. */
    byte[] open(byte[] sealed, byte[] associatedData) {
        if (sealed.length < NONCE_BYTES + TAG_BITS / 8) {
            return null;
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, encryptionKey, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
            cipher.updateAAD(associatedData);
            return cipher.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES);
        }
        catch (AEADBadTagException ex) {
            return null;
        }
        catch (GeneralSecurityException ex) {
            throw new IllegalStateException("every JDK has AES-GCM", ex);
        }
    }

    /** HMAC-SHA256 under the MAC subkey. */
    byte[] mac(byte[] input) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(macKey);
            return mac.doFinal(input);
        }
        catch (GeneralSecurityException ex) {
            throw new IllegalStateException("every JDK has HmacSHA256", ex);
        }
    }

    @Override
    public String toString() {
        return "DataKey[created=" + created + "]";
    }
}
