package dev.postern.broker.access;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.security.web.firewall.RequestRejectedException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** Which spellings of a path the firewall lets through. */
class CanonicalUrlFirewallTests {

    private final CanonicalUrlFirewall firewall = new CanonicalUrlFirewall();

    private static MockHttpServletRequest request(String uri) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", uri);
        request.setServletPath(uri);
        return request;
    }

    @Test
    void aCanonicalPathAndEncodedReservedCharactersPass() {
        assertThat(firewall.getFirewalledRequest(request("/v1/apps/app_abc")).getRequestURI()).isEqualTo("/v1/apps/app_abc");
        assertThat(CanonicalUrlFirewall.encodesAnUnreservedCharacter("/v1/x/a%40b%20c")).isFalse();
        assertThat(CanonicalUrlFirewall.encodesAnUnreservedCharacter("/v1/x/100%")).isFalse();
    }

    @Test
    void anEncodedLetterDigitOrMarkIsRejected() {
        for (String uri : new String[] { "/%761/apps", "/v%31/accounts", "/actuator/%70rometheus", "/v1/%7e", "/v1/%5F",
                "/v1/%2d" }) {
            assertThatExceptionOfType(RequestRejectedException.class).as(uri)
                .isThrownBy(() -> firewall.getFirewalledRequest(request(uri)));
        }
    }

    @Test
    void theStrictFirewallsOwnRulesStillApply() {
        for (String uri : new String[] { "/v1;x/clients", "/v1//apps", "/v1/./apps", "/v1/%2e/apps", "/v1%2fapps" }) {
            assertThatExceptionOfType(RequestRejectedException.class).as(uri)
                .isThrownBy(() -> firewall.getFirewalledRequest(request(uri)));
        }
    }
}
