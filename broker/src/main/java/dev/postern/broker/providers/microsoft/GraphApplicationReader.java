package dev.postern.broker.providers.microsoft;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.outbound.EndpointNotAllowedException;
import dev.postern.broker.outbound.OutboundHttp;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.ProviderException;

/**
 * Reads an app's secrets and certificates as Entra ID has them:
 * {@code GET /v1.0/applications(appId='{client_id}')?$select=passwordCredentials,keyCredentials}.
 * Graph never returns secret values here ({@code secretText} is null), only their metadata. The
 * expiry scan uses it to find the secrets and certificates made in the portal, outside Postern.
 */
public class GraphApplicationReader {

    private final URI graphBaseUrl;

    private final GraphTokenSource tokens;

    private final RestClient http;

    private final JsonMapper json = JsonMapper.builder().build();

    public GraphApplicationReader(URI graphBaseUrl, GraphTokenSource tokens, Duration timeout, OutboundHttp outbound) {
        this.graphBaseUrl = graphBaseUrl;
        this.tokens = tokens;
        this.http = outbound.restClient(timeout, null);
    }

    private record Answer(int statusCode, String body) {
    }

    /** A failure to read from Graph; its message names the cause, never a token or secret. */
    public static class GraphException extends RuntimeException {

        public GraphException(String message) {
            super(message);
        }
    }

    /**
     * One credential of an Entra ID application.
     *
     * @param keyId its id in Entra ID
     * @param certificate {@code true} for a keyCredential, {@code false} for a passwordCredential
     * @param displayName the name given in the portal, or {@code null}
     * @param hint the first characters of a secret, or {@code null}
     * @param customKeyIdentifier a certificate's thumbprint as Graph gives it, or {@code null}
     * @param endDateTime when it expires
     */
    public record GraphCredential(String keyId, boolean certificate, @Nullable String displayName,
            @Nullable String hint, @Nullable String customKeyIdentifier, Instant endDateTime) {
    }

    /** The credentials of the application whose client id is {@code app}'s, asked as the app itself. */
    public List<GraphCredential> read(ProviderClient app) {
        String clientId = app.clientId();
        // The key segment is an OData string literal: quotes doubled, then URL-encoded.
        String key = URLEncoder.encode("'" + clientId.replace("'", "''") + "'", StandardCharsets.UTF_8).replace("+", "%20");
        URI uri = URI.create(graphBaseUrl.toString().replaceAll("/+$", "") + "/v1.0/applications(appId=" + key
                + ")?$select=passwordCredentials,keyCredentials");
        String accessToken = accessToken(app);
        Answer response;
        try {
            response = http.get()
                .uri(uri)
                .header("Authorization", "Bearer " + accessToken)
                .header("Accept", "application/json")
                .exchange((request, answer) -> new Answer(answer.getStatusCode().value(),
                        new String(answer.getBody().readAllBytes(), StandardCharsets.UTF_8)), true);
        }
        catch (ResourceAccessException ex) {
            Throwable cause = ex.getCause() == null ? ex : ex.getCause();
            throw new GraphException("Graph did not answer: " + (cause instanceof EndpointNotAllowedException refused
                    ? "refused by the rule '" + refused.rule().code() + "'" : cause.getClass().getSimpleName()));
        }
        if (response.statusCode() != 200) {
            throw new GraphException("Graph answered " + response.statusCode() + graphError(response.body()));
        }
        JsonNode application = json.readTree(response.body());
        List<GraphCredential> credentials = new ArrayList<>();
        for (JsonNode node : application.path("passwordCredentials")) {
            credentials.add(credential(node, false));
        }
        for (JsonNode node : application.path("keyCredentials")) {
            credentials.add(credential(node, true));
        }
        return credentials;
    }

    private String accessToken(ProviderClient app) {
        try {
            return tokens.accessToken(app);
        }
        catch (ProviderException ex) {
            // Only the error code: the provider's description may quote the request.
            throw new GraphException("no Graph token from Microsoft: " + ex.error());
        }
        catch (IllegalArgumentException ex) {
            throw new GraphException("the app's private key or certificate is not PEM");
        }
    }

    private static GraphCredential credential(JsonNode node, boolean certificate) {
        return new GraphCredential(node.path("keyId").asString(), certificate, text(node, "displayName"),
                certificate ? null : text(node, "hint"), text(node, "customKeyIdentifier"),
                Instant.parse(node.path("endDateTime").asString()));
    }

    private static @Nullable String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isString() ? value.asString() : null;
    }

    private String graphError(String body) {
        try {
            String code = json.readTree(body).path("error").path("code").asString(null);
            return code == null ? "" : " (" + code + ")";
        }
        catch (RuntimeException ex) {
            return "";
        }
    }
}
