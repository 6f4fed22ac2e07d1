package dev.postern.broker.web;

import java.io.IOException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A header Tomcat refuses (a control character) or the firewall refuses (a C1 control character, such
 * as the byte 0x85 that the UTF-8 of many characters holds when read as ISO-8859-1), or a query string
 * Tomcat cannot parse, is refused with a problem, and the value, which may be an API key or an
 * authorization code, is never logged.
 */
@ExtendWith(OutputCaptureExtension.class)
class RejectedHeaderLogIntegrationTests extends ApiIntegrationTest {

    @Test
    void aRefusedAuthorizationHeaderIsNotLogged(CapturedOutput output) throws IOException {
        String response = BrokerClient.rawExchange(port, "GET /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ADMIN_KEY
                + "\u0085\r\nConnection: close\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 400");
        assertThat(output.getAll()).contains("firewall rejected").doesNotContain(ADMIN_KEY);
    }

    @Test
    void headerLinesTomcatRefusesAreNotLogged(CapturedOutput output) throws IOException {
        for (String bad : java.util.List.of("\u0001", "\u007f", "\u0000", "\u000b")) {
            String response = BrokerClient.rawExchange(port, "GET /v1/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ADMIN_KEY
                    + bad + "\r\nConnection: close\r\n\r\n");

            assertThat(response).as("control character %d", (int) bad.charAt(0)).startsWith("HTTP/1.1 400")
                .contains("application/problem+json");
        }
        assertThat(output.getAll()).contains("Tomcat refused a request with 400").doesNotContain(ADMIN_KEY);
    }

    @Test
    void aMalformedQueryStringIsNotLogged(CapturedOutput output) throws IOException {
        String code = "code-" + java.util.UUID.randomUUID();
        String response = BrokerClient.rawExchange(port, "GET /oauth2/callback?state=lnk_x.y&code=" + code + "%ZZ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n\r\n");

        assertThat(response).startsWith("HTTP/1.1 400");
        assertThat(output.getAll()).doesNotContain(code);
    }

}
