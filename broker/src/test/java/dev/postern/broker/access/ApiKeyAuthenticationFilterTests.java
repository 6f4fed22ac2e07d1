package dev.postern.broker.access;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import dev.postern.broker.Role;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/** The filter's own rules: bearer parsing, rate limiting per source, metrics for monitor and admin only. */
class ApiKeyAuthenticationFilterTests {

    private final ApiClientService clients = mock(ApiClientService.class);

    private final ApiKeyAuthenticationFilter filter = new ApiKeyAuthenticationFilter(clients,
            new FailedAuthentications(new AccessProperties(null, Path.of("unused"), Duration.ofSeconds(30), 3)),
            new AdminSessions(Clock.systemUTC(), new AdminSessionProperties(Duration.ofMinutes(30), Duration.ofHours(8))));

    private MockHttpServletResponse send(String path, String source, String authorization) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", path);
        request.setRemoteAddr(source);
        if (authorization != null) {
            request.addHeader("Authorization", authorization);
        }
        MockHttpServletResponse response = new MockHttpServletResponse();
        filter.doFilter(request, response, new MockFilterChain());
        return response;
    }

    @Test
    void afterTheLimitOfFailuresASourceGets429WithoutKeyLookups() throws Exception {
        when(clients.authenticate(anyString())).thenReturn(Optional.empty());

        for (int i = 0; i < 3; i++) {
            assertThat(send("/v1/apps", "10.0.0.1", "Bearer guess-" + i + "-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").getStatus())
                .isEqualTo(401);
        }
        MockHttpServletResponse limited = send("/v1/apps", "10.0.0.1", "Bearer another-guess-xxxxxxxxxxxxxxxxxxxxxxxxxx");

        assertThat(limited.getStatus()).isEqualTo(429);
        assertThat(limited.getHeader("Retry-After")).isEqualTo("60");
        assertThat(limited.getContentType()).isEqualTo("application/problem+json");
        verify(clients, times(3)).authenticate(anyString());
        assertThat(send("/v1/apps", "10.0.0.2", "Bearer other-source-xxxxxxxxxxxxxxxxxxxxxxxxxxxx").getStatus())
            .isEqualTo(401);
    }

    @Test
    void missingOrNonBearerAuthorizationIs401AndHealthIsNotFiltered() throws Exception {
        assertThat(send("/v1/apps", "10.0.0.3", null).getStatus()).isEqualTo(401);
        assertThat(send("/v1/apps", "10.0.0.3", "Basic YWRtaW46YWRtaW4=").getStatus()).isEqualTo(401);
        assertThat(send("/actuator/health", "10.0.0.3", null).getStatus()).isEqualTo(200);
    }

    @Test
    void metricsNeedMonitorOrAdmin() throws Exception {
        when(clients.authenticate("client-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
            .thenReturn(Optional.of(new ApiPrincipal("cli_c", Role.CLIENT, Set.of(), Set.of())));
        when(clients.authenticate("monitor-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
            .thenReturn(Optional.of(new ApiPrincipal("cli_m", Role.MONITOR, Set.of(), Set.of())));

        assertThat(send("/actuator/prometheus", "10.0.0.4", null).getStatus()).isEqualTo(401);
        assertThat(send("/actuator/prometheus", "10.0.0.4", "Bearer client-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
            .getStatus()).isEqualTo(403);
        assertThat(send("/actuator/prometheus", "10.0.0.4", "Bearer monitor-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
            .getStatus()).isEqualTo(200);
    }
}
