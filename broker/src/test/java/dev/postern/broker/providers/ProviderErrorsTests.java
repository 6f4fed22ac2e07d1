package dev.postern.broker.providers;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Provider error strings become codes of one fixed catalogue, so metric labels stay few. */
class ProviderErrorsTests {

    @Test
    void anUnknownErrorStringBecomesOther() {
        assertThat(ProviderErrors.code("AADSTS70011: made up by the provider " + System.nanoTime())).isEqualTo("other");
        assertThat(ProviderErrors.code(null)).isEqualTo("other");
        assertThat(ProviderException.of("evil\"} label=\"x", 400, "anything", null).error()).isEqualTo("other");
        assertThat(ProviderException.of(null, 503, null, null).error()).isEqualTo("other");
        assertThat(ProviderException.of(null, 503, null, null).kind()).isEqualTo(ProviderException.Kind.RETRY_LATER);
    }

    @Test
    void knownCodesAreKeptAndClassified() {
        assertThat(ProviderException.of("invalid_grant", 400, null, null).error()).isEqualTo("invalid_grant");
        assertThat(ProviderException.of("invalid_grant", 400, null, null).kind())
            .isEqualTo(ProviderException.Kind.REAUTH_REQUIRED);
        assertThat(ProviderException.of("invalid_client", 401, null, null).kind())
            .isEqualTo(ProviderException.Kind.CLIENT_REJECTED);
        assertThat(ProviderErrors.CATALOGUE.keySet()).contains("invalid_request", "invalid_client", "invalid_grant",
                "unauthorized_client", "unsupported_grant_type", "invalid_scope", "access_denied",
                "unsupported_response_type", "server_error", "temporarily_unavailable", "other");
        assertThat(CredentialCheck.refused("made_up").error()).isEqualTo("other");
        assertThat(CredentialCheck.refused("made_up").description()).isEqualTo(ProviderErrors.describe("other"));
    }
}
