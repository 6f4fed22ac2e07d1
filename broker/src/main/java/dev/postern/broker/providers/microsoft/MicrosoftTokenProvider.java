package dev.postern.broker.providers.microsoft;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.microsoft.aad.msal4j.AuthorizationCodeParameters;
import com.microsoft.aad.msal4j.AuthorizationRequestUrlParameters;
import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IAuthenticationResult;
import com.microsoft.aad.msal4j.IClientCredential;
import com.microsoft.aad.msal4j.ITokenCacheAccessAspect;
import com.microsoft.aad.msal4j.ITokenCacheAccessContext;
import com.microsoft.aad.msal4j.MsalServiceException;
import com.microsoft.aad.msal4j.RefreshTokenParameters;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.outbound.OutboundMsalHttpClient;
import dev.postern.broker.providers.AuthorizationRequest;
import dev.postern.broker.providers.ClientAuthentication;
import dev.postern.broker.providers.CredentialCheck;
import dev.postern.broker.providers.IdTokens;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.Pem;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.ProviderErrors;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.ProviderHttp;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.ProvidersProperties;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.providers.TokenProvider;

/**
 * Microsoft Entra ID through msal4j: one {@link ConfidentialClientApplication} per call, built on
 * the mailbox's own token cache, which is read from and written back to the store through an
 * {@link ITokenCacheAccessAspect}. A refresh uses the refresh token in that cache; msal4j writes
 * the rotated one back into it. The same application, with the client credentials grant, checks
 * an app's credential and gets the app-only Graph tokens of expiry's Graph discovery.
 */
@Component
public class MicrosoftTokenProvider implements TokenProvider {

    /** The scope of the credential check: an app-only token for Graph, which needs no permission. */
    private static final String GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default";

    /** Scopes msal4j adds by itself and refuses to be given twice. */
    private static final Set<String> RESERVED = Set.of("openid", "profile", "offline_access");

    private final ProvidersProperties properties;

    private final OutboundMsalHttpClient httpClient;

    private final JsonMapper json = JsonMapper.builder().build();

    public MicrosoftTokenProvider(ProvidersProperties properties, ProviderHttp http) {
        this.properties = properties;
        this.httpClient = http.msalHttpClient();
    }

    @Override
    public ProviderKind kind() {
        return ProviderKind.MICROSOFT;
    }

    /** One account's token cache, handed to msal4j and read back after the call. */
    private static final class AccountCache implements ITokenCacheAccessAspect {

        private @Nullable String serialized;

        AccountCache(@Nullable String serialized) {
            this.serialized = serialized;
        }

        @Override
        public void beforeCacheAccess(ITokenCacheAccessContext context) {
            if (serialized != null) {
                context.tokenCache().deserialize(serialized);
            }
        }

        @Override
        public void afterCacheAccess(ITokenCacheAccessContext context) {
            if (context.hasCacheChanged()) {
                serialized = context.tokenCache().serialize();
            }
        }
    }

    private ConfidentialClientApplication application(ProviderClient client, ITokenCacheAccessAspect cache) {
        try {
            return ConfidentialClientApplication.builder(client.clientId(), credential(client.authentication()))
                .authority(properties.microsoftAuthorityHost() + "/" + client.tenant() + "/")
                .instanceDiscovery(false)
                .httpClient(httpClient)
                .setTokenCacheAccessAspect(cache)
                .build();
        }
        catch (MalformedURLException ex) {
            throw new ProviderException(ProviderException.Kind.FAILED, "invalid_configuration",
                    "the tenant does not form a valid authority", null);
        }
    }

    private static IClientCredential credential(ClientAuthentication authentication) {
        return switch (authentication) {
            case ClientAuthentication.Secret secret -> ClientCredentialFactory.createFromSecret(secret.value());
            case ClientAuthentication.Certificate certificate -> ClientCredentialFactory.createFromCertificate(
                    Pem.privateKey(certificate.privateKeyPem()), Pem.certificate(certificate.certificatePem()));
        };
    }

    private static Set<String> resourceScopes(ProviderClient client) {
        Set<String> scopes = new LinkedHashSet<>(client.scopes());
        scopes.removeAll(RESERVED);
        return scopes;
    }

    @Override
    public URI authorizationUrl(ProviderClient client, AuthorizationRequest request) {
        AuthorizationRequestUrlParameters.Builder parameters = AuthorizationRequestUrlParameters
            .builder(request.redirectUri().toString(), resourceScopes(client))
            .state(request.state())
            .nonce(request.nonce())
            .codeChallenge(request.codeChallenge())
            .codeChallengeMethod("S256");
        if (request.loginHint() != null) {
            parameters.loginHint(request.loginHint());
        }
        try {
            return application(client, new AccountCache(null)).getAuthorizationRequestUrl(parameters.build()).toURI();
        }
        catch (URISyntaxException ex) {
            throw new IllegalStateException("msal4j built an invalid authorization URL", ex);
        }
    }

    @Override
    public TokenGrant exchangeCode(ProviderClient client, String code, URI redirectUri, String codeVerifier) {
        AccountCache cache = new AccountCache(null);
        IAuthenticationResult result = await(application(client, cache).acquireToken(
                AuthorizationCodeParameters.builder(code, redirectUri)
                    .scopes(resourceScopes(client))
                    .codeVerifier(codeVerifier)
                    .build()));
        return grant(client, result, cache);
    }

    @Override
    public TokenGrant refresh(ProviderClient client, MailboxState state) {
        AccountCache cache = new AccountCache(state.value());
        String refreshToken = refreshTokenIn(state.value());
        IAuthenticationResult result = await(application(client, cache)
            .acquireToken(RefreshTokenParameters.builder(resourceScopes(client), refreshToken).build()));
        return grant(client, result, cache);
    }

    /** Runs a client credentials grant: the live test of an app's credential, which changes nothing. */
    @Override
    public CredentialCheck verifyCredential(ProviderClient client) {
        try {
            appOnlyToken(client, GRAPH_DEFAULT_SCOPE);
            return CredentialCheck.ok();
        }
        catch (ProviderException ex) {
            return CredentialCheck.refused(ex.error());
        }
        catch (IllegalArgumentException ex) {
            // A private key or certificate Pem cannot read.
            return CredentialCheck.refused("invalid_configuration");
        }
    }

    /**
     * An access token for {@code scope} ({@code {resource}/.default}) as the app itself: the client
     * credentials grant.
     *
     * @throws ProviderException when Microsoft refuses or cannot be reached
     * @throws IllegalArgumentException when the app's private key or certificate is not PEM
     */
    public String appOnlyToken(ProviderClient client, String scope) {
        return await(application(client, new AccountCache(null))
            .acquireToken(ClientCredentialParameters.builder(Set.of(scope)).build())).accessToken();
    }

    private TokenGrant grant(ProviderClient client, IAuthenticationResult result, AccountCache cache) {
        if (cache.serialized == null) {
            throw new ProviderException(ProviderException.Kind.FAILED, "no_token_cache",
                    "msal4j kept no token cache for this mailbox", null);
        }
        Map<String, String> claims = IdTokens.claims(result.idToken());
        String username = entraMailbox(claims);
        ProviderIdentity identity = IdTokens.identity(claims, true);
        String scope = result.scopes() == null || result.scopes().isBlank() ? String.join(" ", resourceScopes(client))
                : result.scopes();
        return new TokenGrant(result.accessToken(), result.expiresOnDate().toInstant(), scope,
                new MailboxState(MailboxState.Kind.MSAL_CACHE, cache.serialized), username, identity, claims);
    }

    /** App-only tokens for the Graph at {@code graphBaseUrl} ({@code {graphBaseUrl}/.default}). */
    public GraphTokenSource graphTokenSource(URI graphBaseUrl) {
        String scope = graphBaseUrl.toString().replaceAll("/+$", "") + "/.default";
        return app -> appOnlyToken(app, scope);
    }

    /**
     * The mailbox of an Entra sign-in: {@code preferred_username}, else {@code upn}. Never
     * {@code email}: in Entra it is an optional, unverified attribute a user or tenant admin can set
     * to any address.
     */
    private static @Nullable String entraMailbox(Map<String, String> claims) {
        for (String name : new String[] { "preferred_username", "upn" }) {
            String value = claims.get(name);
            if (value != null && value.contains("@")) {
                return value.toLowerCase(Locale.ROOT);
            }
        }
        return null;
    }

    /** The refresh token in msal4j's serialized cache: {@code RefreshToken.*.secret}. */
    private String refreshTokenIn(String serializedCache) {
        JsonNode tokens = json.readTree(serializedCache).path("RefreshToken");
        for (JsonNode token : tokens) {
            if (token.hasNonNull("secret")) {
                return token.get("secret").asString();
            }
        }
        throw new ProviderException(ProviderException.Kind.REAUTH_REQUIRED, "no_refresh_token",
                "the stored token cache holds no refresh token", null);
    }

    private IAuthenticationResult await(CompletableFuture<IAuthenticationResult> call) {
        try {
            return call.get(properties.timeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (ExecutionException ex) {
            if (ex.getCause() instanceof MsalServiceException service) {
                int status = service.statusCode() == null ? 400 : service.statusCode();
                throw ProviderException.of(service.errorCode(), status, firstLine(service.getMessage()),
                        retryAfter(service.headers()));
            }
            String code = ProviderErrors.ofFailure(ex.getCause());
            ProviderException.Kind kind = code.equals(ProviderErrors.TIMEOUT) || code.equals(ProviderErrors.UNREACHABLE)
                    ? ProviderException.Kind.RETRY_LATER : ProviderException.Kind.FAILED;
            throw new ProviderException(kind, code, "Microsoft could not be called: " + ProviderErrors.describe(code), null);
        }
        catch (TimeoutException ex) {
            call.cancel(true);
            throw new ProviderException(ProviderException.Kind.RETRY_LATER, "timeout",
                    "Microsoft did not answer within " + properties.timeout(), null);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new ProviderException(ProviderException.Kind.RETRY_LATER, "interrupted", "interrupted", null);
        }
    }

    private static @Nullable Duration retryAfter(@Nullable Map<String, List<String>> headers) {
        if (headers == null) {
            return null;
        }
        for (Map.Entry<String, List<String>> header : headers.entrySet()) {
            if ("retry-after".equalsIgnoreCase(header.getKey()) && !header.getValue().isEmpty()) {
                try {
                    return Duration.ofSeconds(Long.parseLong(header.getValue().getFirst().trim()));
                }
                catch (NumberFormatException ex) {
                    return null;
                }
            }
        }
        return null;
    }

    private static @Nullable String firstLine(@Nullable String message) {
        if (message == null) {
            return null;
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
