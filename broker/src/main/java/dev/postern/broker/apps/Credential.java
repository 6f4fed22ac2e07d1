package dev.postern.broker.apps;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * One credential of an app: a client secret or a certificate, with its expiry and place in the
 * rotation. The secret value and private key live in the store's secret fields, never here.
 *
 * @param id its id
 * @param type {@code client_secret} or {@code certificate}
 * @param state {@code pending}, {@code active} or {@code retired}
 * @param description a human note, such as where it was created
 * @param createdAt when it was added
 * @param expiresAt when the provider stops accepting it
 * @param verification the last live test, or {@code null}
 * @param promotedAt when it became active, or {@code null}
 * @param retiredAt when another one replaced it, or {@code null}
 * @param certificate the public part of a certificate, or {@code null}
 */
public record Credential(String id, CredentialType type, CredentialState state, @Nullable String description,
        Instant createdAt, Instant expiresAt, @Nullable Verification verification, @Nullable Instant promotedAt,
        @Nullable Instant retiredAt, @Nullable CertificateInfo certificate) {

    /** The kinds of credential. */
    public enum CredentialType {
        CLIENT_SECRET, CERTIFICATE
    }

    /** The rotation states: exactly one credential of an app is {@code active}. */
    public enum CredentialState {
        PENDING, ACTIVE, RETIRED
    }

    /**
     * The outcome of a live test at the provider.
     *
     * @param at when it ran
     * @param accepted whether the provider accepted the credential
     * @param error the provider's OAuth error code when not
     * @param description the provider's explanation when not
     */
    public record Verification(Instant at, boolean accepted, @Nullable String error, @Nullable String description) {
    }

    /**
     * The public part of a generated certificate, to upload to the provider.
     *
     * @param pem the certificate, PEM
     * @param sha1Thumbprint its SHA-1 thumbprint, upper-case hex, as Entra ID shows it
     * @param sha256Thumbprint its SHA-256 thumbprint, upper-case hex
     * @param keyAlgorithm {@code RSA_3072} or {@code EC_P256}
     * @param subject the subject DN
     */
    public record CertificateInfo(String pem, String sha1Thumbprint, String sha256Thumbprint, String keyAlgorithm,
            String subject) {
    }

    Credential withState(CredentialState newState, @Nullable Instant newPromotedAt, @Nullable Instant newRetiredAt) {
        return new Credential(id, type, newState, description, createdAt, expiresAt, verification, newPromotedAt,
                newRetiredAt, certificate);
    }

    Credential withVerification(Verification newVerification) {
        return new Credential(id, type, state, description, createdAt, expiresAt, newVerification, promotedAt,
                retiredAt, certificate);
    }

    /** Whether the provider still takes it at {@code now}. */
    public boolean isUnexpiredAt(Instant now) {
        return now.isBefore(expiresAt);
    }
}
