package dev.postern.broker.access;

import java.io.IOException;
import java.util.Map;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.SessionCookieConfig;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.AuthenticationFilter;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.logout.HttpStatusReturningLogoutSuccessHandler;
import org.springframework.security.web.authentication.logout.LogoutFilter;
import org.springframework.security.web.context.SecurityContextHolderFilter;
import org.springframework.security.web.csrf.CsrfTokenRequestAttributeHandler;
import org.springframework.security.web.csrf.HttpSessionCsrfTokenRepository;
import org.springframework.security.web.firewall.HttpFirewall;
import org.springframework.security.web.header.writers.DelegatingRequestMatcherHeaderWriter;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter.ReferrerPolicy;
import org.springframework.security.web.header.writers.StaticHeadersWriter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.AnyRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

import dev.postern.broker.ProblemTypes;
import dev.postern.broker.PublicUrl;
import dev.postern.broker.Role;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.web.SecurityProblems;

/**
 * The door: Spring Security's filter chain with Postern's route table. Every route is listed
 * here as public or with the roles that may call it, matched on the normalised path by the same
 * path patterns Spring MVC routes with; everything else is denied. The default
 * {@code StrictHttpFirewall} refuses non-normalised URLs ({@code ;}, encoded {@code /} and
 * {@code .}, {@code //}, {@code \}) before any of this runs.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebSecurity
class SecurityConfiguration {

    private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

    /** The admin web app may run only its own scripts and styles and may never be framed. */
    static final String ADMIN_CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";

    private static final String ADMIN = Role.ADMIN.name();

    private static final String MONITOR = Role.MONITOR.name();

    private static final String CLIENT = Role.CLIENT.name();

    @Bean
    SecurityFilterChain posternFilterChain(HttpSecurity http, ApiKeyAuthenticationProvider keys, ApiClientService clients,
            AdminSessionSecurityContextRepository sessions, FailedAuthentications failures, SecurityProblems problems,
            AuditLog audit, PublicUrl publicUrl) throws Exception {
        AuthenticationFilter apiKeys = new AuthenticationFilter(new ProviderManager(keys), request -> {
            ApiKeyAuthentication presented = bearerKey(request);
            if (presented != null && failures.addressOverLimit(request.getRemoteAddr())
                    && !clients.authenticatedRecently(String.valueOf(presented.getCredentials()))) {
                // A guesser sending a new key each time: refused before the key costs a store read.
                throw new AddressOverLimitException();
            }
            return presented;
        });
        apiKeys.setSuccessHandler(continueTheChain());
        apiKeys.setFailureHandler(failedKey(failures, problems));

        HttpSessionCsrfTokenRepository csrfTokens = new HttpSessionCsrfTokenRepository();
        csrfTokens.setHeaderName(AdminSessionController.CSRF_HEADER);
        boolean https = "https".equalsIgnoreCase(publicUrl.publicUrl().getScheme());

        http.securityContext(context -> context.securityContextRepository(sessions))
            // Only the admin sign-in creates a session; API calls never do.
            .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.NEVER))
            .requestCache(cache -> cache.disable())
            .httpBasic(basic -> basic.disable())
            .formLogin(form -> form.disable())
            .csrf(csrf -> csrf.csrfTokenRepository(csrfTokens)
                // The admin page reads the token from GET /admin/session and sends it back as it is.
                .csrfTokenRequestHandler(new CsrfTokenRequestAttributeHandler())
                .requireCsrfProtectionMatcher(SecurityConfiguration::changeRidingOnASessionCookie))
            .logout(logout -> logout.logoutRequestMatcher(path(HttpMethod.DELETE, "/admin/session"))
                .addLogoutHandler((request, response, signedIn) -> auditSignOut(audit, signedIn))
                .deleteCookies(AdminSessionController.COOKIE)
                .logoutSuccessHandler(new HttpStatusReturningLogoutSuccessHandler(HttpStatus.NO_CONTENT)))
            .addFilterBefore(new SessionlessKeyRequests(), SecurityContextHolderFilter.class)
            .addFilterAfter(apiKeys, LogoutFilter.class)
            .exceptionHandling(exceptions -> exceptions.authenticationEntryPoint(problems).accessDeniedHandler(problems))
            .headers(headers -> {
                headers.referrerPolicy(referrer -> referrer.policy(ReferrerPolicy.NO_REFERRER));
                headers.addHeaderWriter(new DelegatingRequestMatcherHeaderWriter(adminWebApp(),
                        new StaticHeadersWriter("Content-Security-Policy", ADMIN_CONTENT_SECURITY_POLICY)));
                if (https) {
                    // Behind a TLS ingress the request itself may be plain http: send HSTS on every answer.
                    headers.httpStrictTransportSecurity(hsts -> hsts.requestMatcher(AnyRequestMatcher.INSTANCE)
                        .maxAgeInSeconds(31_536_000));
                }
                else {
                    headers.httpStrictTransportSecurity(hsts -> hsts.disable());
                }
            })
            .authorizeHttpRequests(routes -> routes
                // A forward (/admin/ -> index.html) or an error page renders for a request already authorised.
                .dispatcherTypeMatchers(DispatcherType.FORWARD, DispatcherType.ERROR).permitAll()
                // Public: health status, the owner's browser flow, the API description, the admin web app's files.
                .requestMatchers(HttpMethod.GET, "/actuator/health", "/actuator/health/liveness",
                        "/actuator/health/readiness")
                .permitAll()
                .requestMatchers(HttpMethod.GET, "/connect/{linkId}").permitAll()
                .requestMatchers(HttpMethod.GET, "/oauth2/callback").permitAll()
                .requestMatchers(HttpMethod.POST, "/oauth2/callback").permitAll()
                .requestMatchers(HttpMethod.GET, "/v3/api-docs").permitAll()
                .requestMatchers(HttpMethod.POST, "/admin/session").permitAll()
                .requestMatchers(HttpMethod.GET, "/admin/session").hasRole(ADMIN)
                .requestMatchers(HttpMethod.GET, "/admin", "/admin/", "/admin/index.html", "/admin/assets/**",
                        "/admin/favicon.svg")
                .permitAll()
                // Monitoring.
                .requestMatchers(HttpMethod.GET, "/actuator/prometheus", "/actuator/health/{component}").hasAnyRole(ADMIN, MONITOR)
                // The v1 contract (docs/api.md).
                .requestMatchers(HttpMethod.POST, "/v1/token", "/v1/accounts/{accountId}/token").hasRole(CLIENT)
                .requestMatchers(HttpMethod.GET, "/v1/accounts", "/v1/accounts/{accountId}", "/v1/expiry",
                        "/v1/accounts/{accountId}/mail-sessions")
                .hasAnyRole(ADMIN, MONITOR)
                .requestMatchers(HttpMethod.DELETE, "/v1/accounts/{accountId}").hasRole(ADMIN)
                .requestMatchers("/v1/accounts/{accountId}/app-passwords", "/v1/accounts/{accountId}/app-passwords/*")
                .hasRole(ADMIN)
                .requestMatchers("/v1/apps", "/v1/apps/**", "/v1/clients", "/v1/clients/**", "/v1/audit")
                .hasRole(ADMIN)
                // Deny by default: a route missing above is never served.
                .anyRequest()
                .denyAll());
        return http.build();
    }

    /** The firewall every request passes before the chain: Spring's strict one, plus canonical spelling. */
    @Bean
    HttpFirewall httpFirewall() {
        return new CanonicalUrlFirewall();
    }

    /**
     * The session cookie's hardening, applied to the servlet container: Secure whenever the public
     * URL is https (even when a TLS ingress forwards plain http), and as long-lived as the absolute
     * session timeout. Name, HttpOnly and SameSite=Strict come from application.yml.
     */
    @Bean
    ServletContextInitializer adminSessionCookie(PublicUrl publicUrl, AdminSessionProperties properties) {
        return servletContext -> {
            SessionCookieConfig cookie = servletContext.getSessionCookieConfig();
            cookie.setSecure("https".equalsIgnoreCase(publicUrl.publicUrl().getScheme()));
            cookie.setMaxAge((int) properties.sessionAbsoluteTimeout().toSeconds());
            // The container frees memory after this; the session itself ends by the idle check on the Clock.
            servletContext.setSessionTimeout((int) Math.max(1, properties.sessionIdleTimeout().toMinutes() + 1));
        };
    }

    /** The API key of an {@code Authorization: Bearer} header, or {@code null} to go on as anonymous. */
    private static @Nullable ApiKeyAuthentication bearerKey(HttpServletRequest request) {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() > 600) {
            return null;
        }
        return ApiKeyAuthentication.unchecked(header.substring(7).strip());
    }

    /**
     * A change that only a session cookie authenticates: the one kind of request a foreign page can
     * make a browser send. Bearer calls carry their key in a header no other site can set.
     */
    private static boolean changeRidingOnASessionCookie(HttpServletRequest request) {
        String method = request.getMethod();
        boolean safe = "GET".equals(method) || "HEAD".equals(method) || "OPTIONS".equals(method);
        return !safe && request.getHeader(HttpHeaders.AUTHORIZATION) == null && request.isRequestedSessionIdValid();
    }

    private static AuthenticationSuccessHandler continueTheChain() {
        return new AuthenticationSuccessHandler() {

            @Override
            public void onAuthenticationSuccess(HttpServletRequest request, HttpServletResponse response,
                    FilterChain chain, Authentication authentication) throws IOException, ServletException {
                chain.doFilter(request, response);
            }

            @Override
            public void onAuthenticationSuccess(HttpServletRequest request, HttpServletResponse response,
                    Authentication authentication) {
                // Never called: the four-argument form above goes on with the request.
            }
        };
    }

    private static AuthenticationFailureHandler failedKey(FailedAuthentications failures, SecurityProblems problems) {
        return (request, response, failure) -> {
            if (failure instanceof ApiKeyAuthenticationProvider.StoreUnavailableAuthenticationException) {
                problems.commence(request, response, failure);
                return;
            }
            if (failure instanceof AddressOverLimitException) {
                tooManyFromThisAddress(problems, request, response);
                return;
            }
            ApiKeyAuthentication presented = bearerKey(request);
            String key = presented == null ? "" : String.valueOf(presented.getCredentials());
            boolean limited = failures.recordAndCheckLimit(request.getRemoteAddr(), key);
            log.info("Refused an unknown, revoked or expired API key from {}", request.getRemoteAddr());
            if (limited) {
                problems.write(request, response, HttpStatus.TOO_MANY_REQUESTS,
                        ProblemTypes.TOO_MANY_FAILED_AUTHENTICATIONS, "Too many failed authentications",
                        "Too many failed authentications from this address with this key; wait a minute.",
                        Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds())));
                return;
            }
            problems.write(request, response, HttpStatus.UNAUTHORIZED, ProblemTypes.UNAUTHORIZED, "Unauthorized",
                    "The API key is unknown, revoked or expired.",
                    Map.of(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
        };
    }

    /** An address over its failure limit sent a key that has not authenticated here lately: refused unchecked. */
    static final class AddressOverLimitException extends AuthenticationException {

        AddressOverLimitException() {
            super("Too many failed authentications from this address");
        }
    }

    private static void tooManyFromThisAddress(SecurityProblems problems, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        problems.write(request, response, HttpStatus.TOO_MANY_REQUESTS, ProblemTypes.TOO_MANY_FAILED_AUTHENTICATIONS,
                "Too many failed authentications",
                "Too many failed authentications from this address; keys not used here lately are refused for a minute.",
                Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds())));
    }

    private static void auditSignOut(AuditLog audit, @Nullable Authentication signedIn) {
        if (signedIn != null && signedIn.getPrincipal() instanceof ApiPrincipal admin) {
            audit.success(admin.clientId(), AuditActions.SESSION_DELETE, "client", admin.clientId(), Map.of());
        }
    }

    private static RequestMatcher adminWebApp() {
        return new OrRequestMatcher(path(null, "/admin"), path(null, "/admin/**"));
    }

    private static RequestMatcher path(@Nullable HttpMethod method, String pattern) {
        return PathPatternRequestMatcher.withDefaults().matcher(method, pattern);
    }
}
