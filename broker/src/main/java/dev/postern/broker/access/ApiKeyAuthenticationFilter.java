package dev.postern.broker.access;

import java.io.IOException;
import java.util.Optional;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.Role;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.web.Problems;

/**
 * Authenticates {@code /v1} calls and the metrics endpoint by {@code Authorization: Bearer <api key>},
 * or {@code /v1} calls by the admin web app's session cookie (see {@link AdminSessionController}).
 * Failed attempts are counted per source address; past the limit the address gets 429 for a
 * minute before any key is looked at, which makes guessing pointless on top of 256-bit keys.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class ApiKeyAuthenticationFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyAuthenticationFilter.class);

    private final ApiClientService clients;

    private final FailedAuthentications failures;

    private final AdminSessions sessions;

    private final JsonMapper json = JsonMapper.builder().build();

    ApiKeyAuthenticationFilter(ApiClientService clients, FailedAuthentications failures, AdminSessions sessions) {
        this.clients = clients;
        this.failures = failures;
        this.sessions = sessions;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return !(path.startsWith("/v1/") || path.equals("/v1") || path.startsWith("/actuator/prometheus"));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String source = request.getRemoteAddr();
        if (failures.isLimited(source)) {
            response.setHeader(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds()));
            write(response, request, HttpStatus.TOO_MANY_REQUESTS, "too-many-failed-authentications",
                    "Too many failed authentications", "Too many failed authentications from this address; wait a minute.");
            return;
        }
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        // A bearer header wins over a cookie: a script run from a signed-in browser acts as its key.
        String sessionId = header == null ? AdminSessionController.sessionCookie(request) : null;
        if (sessionId != null && request.getRequestURI().startsWith("/v1/")) {
            authenticateSession(sessionId, request, response, chain);
            return;
        }
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
            write(response, request, HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                    "Send an API key as 'Authorization: Bearer <key>'.");
            return;
        }
        Optional<ApiPrincipal> principal;
        try {
            principal = clients.authenticate(header.substring(7).trim());
        }
        catch (StoreUnavailableException ex) {
            log.warn("Cannot authenticate an API key while the store is unavailable: {}", ex.getMessage());
            response.setHeader(HttpHeaders.RETRY_AFTER, "5");
            write(response, request, HttpStatus.SERVICE_UNAVAILABLE, "store-unavailable", "Secret store unavailable",
                    "The secret store cannot be used right now; try again shortly.");
            return;
        }
        if (principal.isEmpty()) {
            failures.record(source);
            log.info("Refused an unknown, revoked or expired API key from {}", source);
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"");
            write(response, request, HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                    "The API key is unknown, revoked or expired.");
            return;
        }
        if (request.getRequestURI().startsWith("/actuator/prometheus")
                && principal.get().role() != Role.MONITOR && principal.get().role() != Role.ADMIN) {
            write(response, request, HttpStatus.FORBIDDEN, "forbidden", "Forbidden",
                    "Metrics need the role monitor or admin.");
            return;
        }
        request.setAttribute(ApiPrincipal.ATTRIBUTE, principal.get());
        chain.doFilter(request, response);
    }

    private void authenticateSession(String sessionId, HttpServletRequest request, HttpServletResponse response,
            FilterChain chain) throws ServletException, IOException {
        // An unknown or expired session is not counted as a failed authentication: its id is 256
        // random bits, and a tab left open past the idle timeout must not lock its address out.
        Optional<AdminSessions.AdminSession> session = sessions.find(sessionId);
        if (session.isEmpty()) {
            write(response, request, HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                    "The session has expired or was signed out; sign in again.");
            return;
        }
        Optional<ApiPrincipal> principal;
        try {
            // Re-checked on every call: a revoked or expired admin key ends its sessions at once.
            principal = clients.principalOf(session.get().clientId()).filter(p -> p.role() == Role.ADMIN);
        }
        catch (StoreUnavailableException ex) {
            log.warn("Cannot check a session's API client while the store is unavailable: {}", ex.getMessage());
            response.setHeader(HttpHeaders.RETRY_AFTER, "5");
            write(response, request, HttpStatus.SERVICE_UNAVAILABLE, "store-unavailable", "Secret store unavailable",
                    "The secret store cannot be used right now; try again shortly.");
            return;
        }
        if (principal.isEmpty()) {
            sessions.end(sessionId);
            write(response, request, HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                    "The API client of this session is no longer a usable admin; sign in again.");
            return;
        }
        // A cookie is sent by the browser on its own, so a change must prove it comes from our page.
        if (!AdminSessionController.isSafeMethod(request)
                && !session.get().csrfTokenMatches(request.getHeader(AdminSessionController.CSRF_HEADER))) {
            write(response, request, HttpStatus.FORBIDDEN, "forbidden", "Forbidden",
                    "A change made with the session cookie needs the session's X-CSRF-Token header.");
            return;
        }
        request.setAttribute(ApiPrincipal.ATTRIBUTE, principal.get());
        chain.doFilter(request, response);
    }

    private void write(HttpServletResponse response, HttpServletRequest request, HttpStatus status, String type,
            String title, String detail) throws IOException {
        ProblemDetail problem = Problems.of(status, type, title, detail, request);
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), Problems.asMap(problem));
    }
}
