package dev.postern.broker.providers;

import java.net.http.HttpClient;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.microsoft.aad.msal4j.ClientCredentialFactory;
import com.microsoft.aad.msal4j.ClientCredentialParameters;
import com.microsoft.aad.msal4j.ConfidentialClientApplication;
import com.microsoft.aad.msal4j.IClientCredential;
import com.microsoft.aad.msal4j.IHttpClient;
import com.microsoft.aad.msal4j.MsalServiceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.MediaType;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Service;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tests an app's credential against its identity provider with a real token request that
 * changes nothing: Microsoft's client credentials grant through msal4j; for Google and generic
 * providers a refresh with a made-up refresh token, which a provider answers with
 * {@code invalid_grant} only after it accepted the client's credential and with
 * {@code invalid_client} when it did not.
 */
@Service
public class CredentialVerifier {

    private static final Logger log = LoggerFactory.getLogger(CredentialVerifier.class);

    private static final String PROBE_REFRESH_TOKEN = "postern-credential-probe";

    private final ProvidersProperties properties;

    private final ObjectProvider<IHttpClient> msalHttpClient;

    private final RestClient http;

    private final JsonMapper json = JsonMapper.builder().build();

    public CredentialVerifier(ProvidersProperties properties, ObjectProvider<IHttpClient> msalHttpClient,
            ObjectProvider<HttpClient> providerHttpClient) {
        this.properties = properties;
        this.msalHttpClient = msalHttpClient;
        HttpClient client = providerHttpClient.getIfAvailable(
                () -> HttpClient.newBuilder().connectTimeout(properties.timeout()).build());
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(client);
        factory.setReadTimeout(properties.timeout());
        this.http = RestClient.builder().requestFactory(factory).build();
    }

    /** Asks the provider whether it accepts {@code client}'s credential. */
    public CredentialCheck verify(ProviderClient client) {
        return switch (client.kind()) {
            case MICROSOFT -> verifyWithMsal(client);
            case GOOGLE, GENERIC -> verifyWithRefreshProbe(client);
        };
    }

    private CredentialCheck verifyWithMsal(ProviderClient client) {
        try {
            ConfidentialClientApplication.Builder builder = ConfidentialClientApplication
                .builder(client.clientId(), msalCredential(client.authentication()))
                .authority(properties.microsoftAuthorityHost() + "/" + client.tenant() + "/")
                .instanceDiscovery(false);
            IHttpClient httpClient = msalHttpClient.getIfAvailable();
            if (httpClient != null) {
                builder.httpClient(httpClient);
            }
            builder.build()
                .acquireToken(ClientCredentialParameters.builder(Set.of("https://graph.microsoft.com/.default")).build())
                .get(properties.timeout().toMillis(), TimeUnit.MILLISECONDS);
            return CredentialCheck.ok();
        }
        catch (ExecutionException ex) {
            if (ex.getCause() instanceof MsalServiceException service) {
                return CredentialCheck.refused(service.errorCode(), firstLine(service.getMessage()));
            }
            log.warn("Microsoft credential check for client {} failed: {}", client.clientId(),
                    ex.getCause().getClass().getSimpleName());
            return CredentialCheck.refused("unreachable", "Microsoft could not be asked: " + ex.getCause().getClass().getSimpleName());
        }
        catch (TimeoutException ex) {
            return CredentialCheck.refused("timeout", "Microsoft did not answer within " + properties.timeout());
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return CredentialCheck.refused("interrupted", null);
        }
        catch (java.net.MalformedURLException | IllegalArgumentException ex) {
            return CredentialCheck.refused("invalid_configuration", "the tenant or credential is malformed");
        }
    }

    private static IClientCredential msalCredential(ClientAuthentication authentication) {
        return switch (authentication) {
            case ClientAuthentication.Secret secret -> ClientCredentialFactory.createFromSecret(secret.value());
            case ClientAuthentication.Certificate certificate -> ClientCredentialFactory.createFromCertificate(
                    Pem.privateKey(certificate.privateKeyPem()), Pem.certificate(certificate.certificatePem()));
        };
    }

    private CredentialCheck verifyWithRefreshProbe(ProviderClient client) {
        if (!(client.authentication() instanceof ClientAuthentication.Secret secret)) {
            return CredentialCheck.refused("unsupported_credential", "this provider takes client secrets only");
        }
        MultiValueMap<String, String> form = new LinkedMultiValueMap<>();
        form.add("grant_type", "refresh_token");
        form.add("refresh_token", PROBE_REFRESH_TOKEN);
        form.add("client_id", client.clientId());
        form.add("client_secret", secret.value());
        try {
            return http.post()
                .uri(client.tokenEndpoint())
                .contentType(MediaType.APPLICATION_FORM_URLENCODED)
                .body(form)
                .exchange((request, response) -> {
                    String body = new String(response.getBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    return interpretProbe(response.getStatusCode().value(), body);
                });
        }
        catch (org.springframework.web.client.ResourceAccessException ex) {
            return CredentialCheck.refused("unreachable", "the token endpoint did not answer");
        }
    }

    private CredentialCheck interpretProbe(int status, String body) {
        String error;
        String description = null;
        try {
            JsonNode answer = json.readTree(body);
            error = answer.path("error").asString(null);
            description = answer.path("error_description").asString(null);
        }
        catch (RuntimeException ex) {
            error = null;
        }
        if ("invalid_grant".equals(error)) {
            return CredentialCheck.ok(); // the client was authenticated; only our made-up refresh token was refused
        }
        if (status / 100 == 2) {
            return CredentialCheck.refused("unexpected_success", "the token endpoint accepted a made-up refresh token");
        }
        return CredentialCheck.refused(error == null ? "http_" + status : error, description);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return null;
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
