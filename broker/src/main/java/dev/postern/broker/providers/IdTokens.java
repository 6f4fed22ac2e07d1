package dev.postern.broker.providers;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the claims of an id_token received directly from the provider's token endpoint over
 * TLS: OpenID Connect Core 3.1.3.7 lets a confidential client rely on TLS server validation
 * instead of the signature in that case. Only identity claims are kept.
 */
public final class IdTokens {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The identity claims kept from an id_token or a userinfo answer. */
    static final String[] IDENTITY_CLAIMS = { "sub", "email", "email_verified", "preferred_username", "upn", "tid",
            "oid", "iss", "name" };

    private IdTokens() {
    }

    /** The identity claims of {@code idToken}, read without its signature (see above). */
    public static Map<String, String> claims(@Nullable String idToken) {
        if (idToken == null || idToken.isBlank()) {
            return new LinkedHashMap<>();
        }
        String[] parts = idToken.split("\\.");
        if (parts.length < 2) {
            return new LinkedHashMap<>();
        }
        return claims(JSON.readTree(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)));
    }

    /** The identity claims of a JSON object (an id_token payload or a userinfo answer), as text. */
    static Map<String, String> claims(@Nullable JsonNode payload) {
        Map<String, String> claims = new LinkedHashMap<>();
        if (payload == null) {
            return claims;
        }
        for (String name : IDENTITY_CLAIMS) {
            if (payload.hasNonNull(name)) {
                claims.put(name, payload.get(name).asString());
            }
        }
        return claims;
    }

    /** The {@code email} claim when the provider says it verified it ({@code email_verified: true}), else {@code null}. */
    static @Nullable String verifiedEmail(Map<String, String> claims) {
        String email = claims.get("email");
        if (email != null && email.contains("@") && "true".equalsIgnoreCase(claims.get("email_verified"))) {
            return email.toLowerCase(Locale.ROOT);
        }
        return null;
    }

    /**
     * Who signed in: Entra's {@code oid} (stable across the apps of a tenant) and {@code tid}, else
     * the OpenID {@code sub}; {@code null} when the claims name no subject.
     */
    public static @Nullable ProviderIdentity identity(Map<String, String> claims, boolean entra) {
        String subject = entra && claims.get("oid") != null ? claims.get("oid") : claims.get("sub");
        if (subject == null || subject.isBlank()) {
            return null;
        }
        return new ProviderIdentity(claims.get("iss"), entra ? claims.get("tid") : null, subject);
    }
}
