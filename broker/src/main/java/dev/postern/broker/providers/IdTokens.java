package dev.postern.broker.providers;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the claims of an id_token received directly from the provider's token endpoint over
 * TLS: OpenID Connect Core 3.1.3.7 lets a confidential client rely on TLS server validation
 * instead of the signature in that case. Only identity claims are kept.
 */
final class IdTokens {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private IdTokens() {
    }

    static Map<String, String> claims(@Nullable String idToken) {
        Map<String, String> claims = new LinkedHashMap<>();
        if (idToken == null || idToken.isBlank()) {
            return claims;
        }
        String[] parts = idToken.split("\\.");
        if (parts.length < 2) {
            return claims;
        }
        JsonNode payload = JSON.readTree(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
        for (String name : new String[] { "sub", "email", "preferred_username", "upn", "tid", "oid", "iss", "name" }) {
            if (payload.hasNonNull(name)) {
                claims.put(name, payload.get(name).asString());
            }
        }
        return claims;
    }

    /** The mailbox address among the claims: {@code email}, else {@code preferred_username}, else {@code upn}. */
    static @Nullable String mailbox(Map<String, String> claims) {
        for (String name : new String[] { "email", "preferred_username", "upn" }) {
            String value = claims.get(name);
            if (value != null && value.contains("@")) {
                return value.toLowerCase(java.util.Locale.ROOT);
            }
        }
        return null;
    }
}
