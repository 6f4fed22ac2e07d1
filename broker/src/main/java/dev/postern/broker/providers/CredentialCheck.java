package dev.postern.broker.providers;

import org.jspecify.annotations.Nullable;

/**
 * What the provider said of a credential in a live test.
 *
 * @param accepted whether the provider accepted the app's credential
 * @param error a {@link ProviderErrors} code when it did not (such as {@code invalid_client})
 * @param description the fixed description of that code: never text the peer sent
 */
public record CredentialCheck(boolean accepted, @Nullable String error, @Nullable String description) {

    public static CredentialCheck ok() {
        return new CredentialCheck(true, null, null);
    }

    /** Refused with {@code error}, mapped to the catalogue; the description is the catalogue's, never the peer's. */
    public static CredentialCheck refused(String error) {
        String code = ProviderErrors.code(error);
        return new CredentialCheck(false, code, ProviderErrors.describe(code));
    }
}
