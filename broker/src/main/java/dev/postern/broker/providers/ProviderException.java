package dev.postern.broker.providers;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * A token request the provider refused or could not answer, classified on the OAuth
 * {@code error} code (never on message text) into what the broker must do next.
 */
public class ProviderException extends RuntimeException {

    /** What the failure means for the broker. */
    public enum Kind {
        /** {@code invalid_grant}, {@code interaction_required}, {@code consent_required}: the owner must reconnect. */
        REAUTH_REQUIRED,
        /** {@code invalid_client}, {@code unauthorized_client}: the app's credential is wrong or expired. */
        CLIENT_REJECTED,
        /** 429, 5xx, timeouts: try again later, not before {@link #retryAfter()}. */
        RETRY_LATER,
        /** Anything else. */
        FAILED
    }

    private final Kind kind;

    private final String error;

    private final @Nullable Duration retryAfter;

    public ProviderException(Kind kind, String error, String message, @Nullable Duration retryAfter) {
        super(message);
        this.kind = kind;
        this.error = ProviderErrors.code(error);
        this.retryAfter = retryAfter;
    }

    /** Classifies an OAuth error code (and the HTTP status when there is no code). */
    public static ProviderException of(@Nullable String error, int status, @Nullable String description,
            @Nullable Duration retryAfter) {
        String code = ProviderErrors.code(error);
        Kind kind = switch (code) {
            case "invalid_grant", "interaction_required", "consent_required", "login_required" -> Kind.REAUTH_REQUIRED;
            case "invalid_client", "unauthorized_client" -> Kind.CLIENT_REJECTED;
            case "temporarily_unavailable", "server_error", "slow_down" -> Kind.RETRY_LATER;
            default -> status == 429 || status >= 500 ? Kind.RETRY_LATER : Kind.FAILED;
        };
        String shortened = description == null ? "" : ": " + (description.length() > 200 ? description.substring(0, 200) + "…" : description);
        return new ProviderException(kind, code, "the identity provider answered " + code + shortened, retryAfter);
    }

    public Kind kind() {
        return kind;
    }

    /** The error code, always one of {@link ProviderErrors}' catalogue. */
    public String error() {
        return error;
    }

    public @Nullable Duration retryAfter() {
        return retryAfter;
    }
}
