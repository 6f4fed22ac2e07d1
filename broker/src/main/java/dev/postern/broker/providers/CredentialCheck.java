package dev.postern.broker.providers;

import org.jspecify.annotations.Nullable;

/**
 * What the provider said of a credential in a live test.
 *
 * @param accepted whether the provider accepted the app's credential
 * @param error the OAuth {@code error} code when it did not (such as {@code invalid_client})
 * @param description the provider's {@code error_description}, shortened, never a secret
 */
public record CredentialCheck(boolean accepted, @Nullable String error, @Nullable String description) {

    static CredentialCheck ok() {
        return new CredentialCheck(true, null, null);
    }

    static CredentialCheck refused(String error, @Nullable String description) {
        String shortened = description == null ? null
                : description.length() > 300 ? description.substring(0, 300) + "…" : description;
        return new CredentialCheck(false, error, shortened);
    }
}
