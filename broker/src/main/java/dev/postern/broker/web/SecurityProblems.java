package dev.postern.broker.web;

import java.io.IOException;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.csrf.CsrfException;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.stereotype.Component;

import dev.postern.broker.ProblemTypes;

/**
 * Answers what Spring Security refuses with the same RFC 9457 problems as every other error: no
 * credentials (401), credentials that cannot be checked now (503), a role that may not make the call (403), a missing CSRF token (403), and a
 * URL the firewall rejects ({@code ;}, encoded {@code /} or {@code .}, {@code //}, {@code \}: 400).
 */
@Component
public class SecurityProblems implements AuthenticationEntryPoint, AccessDeniedHandler, RequestRejectedHandler {

    private static final Logger log = LoggerFactory.getLogger(SecurityProblems.class);

    @Override
    public void commence(HttpServletRequest request, HttpServletResponse response, AuthenticationException ex)
            throws IOException {
        if (ex instanceof AuthenticationServiceException) {
            // The credentials could not be checked (the store is unavailable): not a failed attempt.
            log.warn("Cannot authenticate while the secret store is unavailable");
            write(request, response, HttpStatus.SERVICE_UNAVAILABLE, ProblemTypes.STORE_UNAVAILABLE,
                    "Secret store unavailable", "The secret store cannot be used right now; try again shortly.",
                    Map.of(HttpHeaders.RETRY_AFTER, "5"));
            return;
        }
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        write(request, response, HttpStatus.UNAUTHORIZED, ProblemTypes.UNAUTHORIZED, "Unauthorized",
                "Send an API key as 'Authorization: Bearer <key>', or sign in to the admin web app.");
    }

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, AccessDeniedException ex)
            throws IOException {
        String detail = ex instanceof CsrfException
                ? "A change made with the session cookie needs the session's X-CSRF-Token header."
                : "This call does not exist or is not open to the role of this API client.";
        write(request, response, HttpStatus.FORBIDDEN, ProblemTypes.FORBIDDEN, "Forbidden", detail);
    }

    @Override
    public void handle(HttpServletRequest request, HttpServletResponse response, RequestRejectedException ex)
            throws IOException {
        // Neither the URL nor a refused value is logged: the firewall's message for a header or
        // parameter holds the whole value, such as an Authorization header with its API key.
        log.info("Refused a request the firewall rejected: {}", withoutQuotedInput(ex.getMessage()));
        write(request, response, HttpStatus.BAD_REQUEST, ProblemTypes.INVALID_REQUEST, "Bad Request",
                "The request URL is not in normalised form (';', encoded '/' or '.', '//', '\\' or '..' are refused).");
    }

    /**
     * The firewall's {@code message} without the header or parameter value it quotes ({@code header:
     * "Authorization " has a value "Bearer pst_…" that is not allowed}), which may be a secret; the
     * rule and the name stay.
     */
    static String withoutQuotedInput(@Nullable String message) {
        if (message == null) {
            return "(no reason given)";
        }
        int value = message.indexOf(" has a value \"");
        return value < 0 ? message : message.substring(0, value) + " has a value that is not allowed (not logged)";
    }

    /** Writes a problem of {@code type} outside Spring MVC, as a filter must. */
    public void write(HttpServletRequest request, HttpServletResponse response, HttpStatus status, String type,
            String title, String detail) throws IOException {
        write(request, response, status, type, title, detail, Map.of());
    }

    /** Writes a problem of {@code type} with extra {@code headers}. */
    public void write(HttpServletRequest request, HttpServletResponse response, HttpStatus status, String type,
            String title, String detail, Map<String, String> headers) throws IOException {
        Problems.write(Problems.of(status, type, title, detail), request, response, headers);
    }
}
