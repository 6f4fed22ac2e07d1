package dev.postern.broker.providers;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Standard OAuth2 authorization-code and refresh calls with Spring's RestClient, for Google and
 * generic providers. A refresh token is kept when the provider does not rotate it.
 */
abstract class OAuth2TokenProvider implements TokenProvider {

    /** The refresh token of the credential check: no provider ever issued it. */
    private static final String PROBE_REFRESH_TOKEN = "postern-credential-probe";

    private final ProviderHttp http;

    private final Clock clock;

    private final JsonMapper json = JsonMapper.builder().build();

    OAuth2TokenProvider(ProviderHttp http, Clock clock) {
        this.http = http;
        this.clock = clock;
    }

    /** The authorize endpoint of {@code client}. */
    protected abstract URI authorizeEndpoint(ProviderClient client);

    /** The token endpoint of {@code client}. */
    protected abstract URI tokenEndpoint(ProviderClient client);

    /** Extra authorize parameters, such as Google's {@code access_type=offline}. */
    protected Map<String, String> extraAuthorizeParameters() {
        return Map.of();
    }

    @Override
    public URI authorizationUrl(ProviderClient client, AuthorizationRequest request) {
        UriComponentsBuilder url = UriComponentsBuilder.fromUri(authorizeEndpoint(client))
            .queryParam("response_type", "code")
            .queryParam("client_id", client.clientId())
            .queryParam("redirect_uri", request.redirectUri())
            .queryParam("scope", String.join(" ", client.scopes()))
            .queryParam("state", request.state())
            .queryParam("nonce", request.nonce())
            .queryParam("code_challenge", request.codeChallenge())
            .queryParam("code_challenge_method", "S256");
        if (request.loginHint() != null) {
            url.queryParam("login_hint", request.loginHint());
        }
        extraAuthorizeParameters().forEach(url::queryParam);
        return url.encode().build().toUri();
    }

    @Override
    public TokenGrant exchangeCode(ProviderClient client, String code, URI redirectUri, String codeVerifier) {
        MultiValueMap<String, String> form = new LinkedMultiValueMap<>();
        form.add("grant_type", "authorization_code");
        form.add("code", code);
        form.add("redirect_uri", redirectUri.toString());
        form.add("code_verifier", codeVerifier);
        return grant(client, form, null);
    }

    @Override
    public TokenGrant refresh(ProviderClient client, MailboxState state) {
        MultiValueMap<String, String> form = new LinkedMultiValueMap<>();
        form.add("grant_type", "refresh_token");
        form.add("refresh_token", state.value());
        return grant(client, form, state.value());
    }

    /**
     * Sends a made-up refresh token with the client's credential: {@code invalid_grant} means the
     * provider authenticated the client and refused only the token, so the credential is good.
     */
    @Override
    public CredentialCheck verifyCredential(ProviderClient client) {
        if (!(client.authentication() instanceof ClientAuthentication.Secret secret)) {
            return CredentialCheck.refused("unsupported_credential");
        }
        MultiValueMap<String, String> form = new LinkedMultiValueMap<>();
        form.add("grant_type", "refresh_token");
        form.add("refresh_token", PROBE_REFRESH_TOKEN);
        form.add("client_id", client.clientId());
        form.add("client_secret", secret.value());
        try {
            return http.restClient()
                .post()
                .uri(tokenEndpoint(client))
                .contentType(MediaType.APPLICATION_FORM_URLENCODED)
                .body(form)
                .exchange((request, response) -> interpretProbe(response.getStatusCode().value(),
                        new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8)));
        }
        catch (ResourceAccessException ex) {
            return CredentialCheck.refused(ProviderErrors.ofFailure(ex));
        }
    }

    private CredentialCheck interpretProbe(int status, String body) {
        String error = null;
        try {
            error = json.readTree(body).path("error").asString(null);
        }
        catch (RuntimeException ex) {
            // not JSON: judged on the status alone
        }
        if ("invalid_grant".equals(error)) {
            return CredentialCheck.ok(); // the client was authenticated; only our made-up refresh token was refused
        }
        if (status / 100 == 2) {
            return CredentialCheck.refused("unexpected_success");
        }
        return CredentialCheck.refused(error == null ? ProviderErrors.OTHER : error);
    }

    private TokenGrant grant(ProviderClient client, MultiValueMap<String, String> form, @Nullable String previousRefreshToken) {
        if (!(client.authentication() instanceof ClientAuthentication.Secret secret)) {
            throw new ProviderException(ProviderException.Kind.CLIENT_REJECTED, "unsupported_credential",
                    "this provider takes client secrets only", null);
        }
        form.add("client_id", client.clientId());
        form.add("client_secret", secret.value());
        Instant requestedAt = clock.instant();
        JsonNode answer;
        try {
            answer = http.restClient()
                .post()
                .uri(tokenEndpoint(client))
                .contentType(MediaType.APPLICATION_FORM_URLENCODED)
                .accept(MediaType.APPLICATION_JSON)
                .body(form)
                .exchange((request, response) -> {
                    String body = new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8);
                    JsonNode parsed = parse(body);
                    if (!response.getStatusCode().is2xxSuccessful() || !parsed.hasNonNull("access_token")) {
                        throw ProviderException.of(parsed.path("error").asString(null), response.getStatusCode().value(),
                                parsed.path("error_description").asString(null),
                                retryAfter(response.getHeaders()));
                    }
                    return parsed;
                });
        }
        catch (ResourceAccessException ex) {
            String code = ProviderErrors.ofFailure(ex);
            ProviderException.Kind kind = code.equals(ProviderErrors.TIMEOUT) || code.equals(ProviderErrors.UNREACHABLE)
                    ? ProviderException.Kind.RETRY_LATER : ProviderException.Kind.FAILED;
            throw new ProviderException(kind, code, "the identity provider could not be called: "
                    + ProviderErrors.describe(code), null);
        }
        String refreshToken = answer.path("refresh_token").asString(previousRefreshToken);
        if (refreshToken == null) {
            throw new ProviderException(ProviderException.Kind.FAILED, "no_refresh_token",
                    "the provider returned no refresh token: the app must ask for offline access", null);
        }
        Map<String, String> claims = IdTokens.claims(answer.path("id_token").asString(null));
        if (IdTokens.verifiedEmail(claims) == null && client.userinfoEndpoint() != null && previousRefreshToken == null) {
            Map<String, String> userinfo = userinfoClaims(client.userinfoEndpoint(), answer.path("access_token").asString());
            // OpenID Connect Core 5.3.2: userinfo is about the id_token's user only when the subjects match.
            if (claims.get("sub") == null || claims.get("sub").equals(userinfo.get("sub"))) {
                // The address and its verified flag come from the same answer, never one from each.
                claims.remove("email");
                claims.remove("email_verified");
                claims.putAll(userinfo);
            }
        }
        String username = IdTokens.verifiedEmail(claims);
        ProviderIdentity identity = IdTokens.identity(claims, false);
        long expiresIn = answer.path("expires_in").asLong(3600);
        return new TokenGrant(answer.path("access_token").asString(), requestedAt.plusSeconds(expiresIn),
                answer.path("scope").asString(String.join(" ", client.scopes())),
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, refreshToken), username, identity, claims);
    }

    private Map<String, String> userinfoClaims(URI userinfo, String accessToken) {
        try {
            return IdTokens.claims(http.restClient()
                .get()
                .uri(userinfo)
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + accessToken)
                .retrieve()
                .body(JsonNode.class));
        }
        catch (RuntimeException ex) {
            return new LinkedHashMap<>();
        }
    }

    private JsonNode parse(String body) {
        try {
            return json.readTree(body);
        }
        catch (RuntimeException ex) {
            return json.createObjectNode();
        }
    }

    static @Nullable Duration retryAfter(HttpHeaders headers) {
        String value = headers.getFirst(HttpHeaders.RETRY_AFTER);
        if (value == null) {
            return null;
        }
        try {
            return Duration.ofSeconds(Long.parseLong(value.trim()));
        }
        catch (NumberFormatException ex) {
            return null; // an HTTP date: rare for token endpoints, treated as no hint
        }
    }
}
