package dev.postern.broker.providers;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.outbound.EndpointNotAllowedException;

/**
 * The only error codes a provider failure is known by, in metrics, audit entries, account errors
 * and verification results: the OAuth 2.0 codes of RFC 6749 (5.2 and 4.1.2.1), the OpenID Connect
 * codes that mean "sign in again", Postern's own codes for calls that got no usable answer, and
 * {@link #OTHER} for anything a provider made up. A provider's own error string is never used as a
 * code, so metric label values stay few; a verification answers with the fixed description here.
 */
public final class ProviderErrors {

    /** Anything not in the catalogue. */
    public static final String OTHER = "other";

    /** The call's destination was refused by {@code postern.outbound} rules. */
    public static final String ENDPOINT_NOT_ALLOWED = "endpoint_not_allowed";

    /** The provider answered with a redirect, which is not followed. */
    public static final String REDIRECT = "redirect";

    /** The provider's answer was larger than the cap. */
    public static final String RESPONSE_TOO_LARGE = "response_too_large";

    /** The provider did not answer in time. */
    public static final String TIMEOUT = "timeout";

    /** The provider could not be reached. */
    public static final String UNREACHABLE = "unreachable";

    /** Every code, with a fixed description for people. */
    static final Map<String, String> CATALOGUE;

    static {
        Map<String, String> codes = new LinkedHashMap<>();
        // RFC 6749 5.2 (token endpoint) and 4.1.2.1 (authorization endpoint)
        codes.put("invalid_request", "the provider found the request malformed");
        codes.put("invalid_client", "the provider did not accept the app's credential");
        codes.put("invalid_grant", "the provider did not accept the grant (code or refresh token)");
        codes.put("unauthorized_client", "the app may not use this grant at the provider");
        codes.put("unsupported_grant_type", "the provider does not support this grant");
        codes.put("invalid_scope", "the provider refused the scopes");
        codes.put("access_denied", "the owner or the provider denied access");
        codes.put("unsupported_response_type", "the provider does not support this response type");
        codes.put("server_error", "the provider had an internal error");
        codes.put("temporarily_unavailable", "the provider is temporarily unavailable");
        // OpenID Connect Core 3.1.2.6: the owner must sign in again
        codes.put("interaction_required", "the owner must sign in again");
        codes.put("login_required", "the owner must sign in again");
        codes.put("consent_required", "the owner must consent again");
        // Postern's own
        codes.put(ENDPOINT_NOT_ALLOWED, "the endpoint is not a public https destination");
        codes.put(REDIRECT, "the endpoint answered with a redirect, which is not followed");
        codes.put(RESPONSE_TOO_LARGE, "the endpoint's answer was larger than 256 KiB");
        codes.put(TIMEOUT, "the endpoint did not answer in time");
        codes.put(UNREACHABLE, "the endpoint could not be reached");
        codes.put("unexpected_success", "the token endpoint accepted a made-up refresh token");
        codes.put("unsupported_credential", "this provider takes client secrets only");
        codes.put("invalid_configuration", "the tenant or credential is malformed");
        codes.put("no_refresh_token", "the provider returned no refresh token: the app must ask for offline access");
        codes.put("no_token_cache", "msal4j kept no token cache for this mailbox");
        codes.put("interrupted", "the call was interrupted");
        codes.put(OTHER, "the provider refused the request with an error Postern does not know");
        CATALOGUE = Map.copyOf(codes);
    }

    private static final Set<String> CODES = CATALOGUE.keySet();

    private ProviderErrors() {
    }

    /** {@code error} when the catalogue has it, else {@link #OTHER}. */
    public static String code(@Nullable String error) {
        return error != null && CODES.contains(error) ? error : OTHER;
    }

    /** The fixed description of a catalogued code. */
    public static String describe(String code) {
        return CATALOGUE.getOrDefault(code, CATALOGUE.get(OTHER));
    }

    /** The code for a call that failed without an answer: a refused destination, a timeout, else unreachable. */
    public static String ofFailure(@Nullable Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof EndpointNotAllowedException refused) {
                return switch (refused.rule()) {
                    case REDIRECT -> REDIRECT;
                    case TOO_LARGE -> RESPONSE_TOO_LARGE;
                    default -> ENDPOINT_NOT_ALLOWED;
                };
            }
            if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException) {
                return TIMEOUT;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return UNREACHABLE;
    }
}
