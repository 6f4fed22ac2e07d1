package dev.postern.broker.store;

import java.util.Map;
import java.util.TreeMap;

/**
 * What the store keeps at one path: plain metadata and named secret values. Secret values are
 * encrypted by the backend before they leave the process (AES-GCM under a data key that Transit
 * wrapped in Vault, AES-GCM under the master key in the
 * embedded file) and are never printed.
 *
 * @param data JSON-compatible metadata (strings, numbers, booleans, lists and maps)
 * @param secrets secret values by name, such as a client secret or a refresh token
 */
public record SecretDocument(Map<String, Object> data, Map<String, String> secrets) {

    public SecretDocument {
        data = Map.copyOf(data);
        secrets = Map.copyOf(secrets);
    }

    /** A document without secret values. */
    public static SecretDocument of(Map<String, Object> data) {
        return new SecretDocument(data, Map.of());
    }

    /** The secret value called {@code name}, or {@code null}. */
    public String secret(String name) {
        return secrets.get(name);
    }

    @Override
    public String toString() {
        return "SecretDocument[data=" + new TreeMap<>(data) + ", secrets=" + secrets.keySet() + " (values redacted)]";
    }
}
