package dev.postern.broker.providers;

import java.nio.charset.StandardCharsets;

import org.springframework.http.MediaType;
import org.springframework.stereotype.Service;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.client.ResourceAccessException;
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

    private static final String PROBE_REFRESH_TOKEN = "postern-credential-probe";

    private final MicrosoftTokenProvider microsoft;

    private final ProviderHttp http;

    private final JsonMapper json = JsonMapper.builder().build();

    CredentialVerifier(MicrosoftTokenProvider microsoft, ProviderHttp http) {
        this.microsoft = microsoft;
        this.http = http;
    }

    /** Asks the provider whether it accepts {@code client}'s credential. */
    public CredentialCheck verify(ProviderClient client) {
        return switch (client.kind()) {
            case MICROSOFT -> verifyWithClientCredentials(client);
            case GOOGLE, GENERIC -> verifyWithRefreshProbe(client);
        };
    }

    private CredentialCheck verifyWithClientCredentials(ProviderClient client) {
        try {
            microsoft.clientCredentials(client);
            return CredentialCheck.ok();
        }
        catch (ProviderException ex) {
            return CredentialCheck.refused(ex.error());
        }
        catch (IllegalArgumentException ex) {
            return CredentialCheck.refused("invalid_configuration");
        }
    }

    private CredentialCheck verifyWithRefreshProbe(ProviderClient client) {
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
                .uri(client.tokenEndpoint())
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
            JsonNode answer = json.readTree(body);
            error = answer.path("error").asString(null);
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
}
