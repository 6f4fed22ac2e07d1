package dev.postern.broker.access;

import java.time.Instant;
import java.util.Locale;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.Role;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;

/**
 * Sign-in of the admin web app: {@code POST /admin/session} trades an admin API key for a
 * servlet session (the {@code postern_session} cookie), so the key is typed once and never kept by
 * the browser. {@code GET} tells who is signed in and hands out the session's CSRF token; sign-out
 * ({@code DELETE}) is Spring Security's logout, configured in {@link SecurityConfiguration}.
 */
@RestController
@RequestMapping("/admin/session")
class AdminSessionController {

    private static final Logger log = LoggerFactory.getLogger(AdminSessionController.class);

    /** The session cookie's name. */
    static final String COOKIE = "postern_session";

    /** The header that carries the session's CSRF token on every change. */
    static final String CSRF_HEADER = "X-CSRF-Token";

    private final ApiKeyAuthenticationProvider keys;

    private final AdminSessionSecurityContextRepository sessions;

    private final FailedAuthentications failures;

    private final ApiClientService clients;

    private final AuditLog audit;

    AdminSessionController(ApiKeyAuthenticationProvider keys, AdminSessionSecurityContextRepository sessions,
            FailedAuthentications failures, ApiClientService clients, AuditLog audit) {
        this.keys = keys;
        this.sessions = sessions;
        this.failures = failures;
        this.clients = clients;
        this.audit = audit;
    }

    record SignInRequest(@NotBlank @Size(max = 512) String apiKey) {

        @Override
        public String toString() {
            return "SignInRequest[apiKey=(redacted)]";
        }
    }

    /** Who is signed in, and the CSRF token the page sends back on changes. */
    record SessionView(String clientId, @Nullable String name, String role, String csrfToken, Instant expiresAt,
            long idleTimeoutSeconds) {

        @Override
        public String toString() {
            return "SessionView[clientId=" + clientId + ", csrfToken=(redacted)]";
        }
    }

    // Only application/json is read (Spring answers 415 otherwise), and a cross-site page cannot
    // send that without a CORS preflight, which Postern never grants: no sign-in CSRF by form post.
    @PostMapping
    ResponseEntity<Void> signIn(@Valid @RequestBody SignInRequest body, HttpServletRequest request,
            HttpServletResponse response) {
        // A request with an Authorization header is authenticated by it alone and gets no session
        // (SessionlessKeyRequests): it cannot sign in, and is told so instead of failing inside.
        if (request.getHeader(HttpHeaders.AUTHORIZATION) != null) {
            throw new ApiException(HttpStatus.BAD_REQUEST, ProblemTypes.INVALID_REQUEST, "Invalid request",
                    "Sign in with the key in the body only: a request with an Authorization header gets no session.");
        }
        String key = body.apiKey().strip();
        if (failures.addressOverLimit(request.getRemoteAddr()) && !clients.authenticatedRecently(key)) {
            // A guesser sending a new key each time: refused before the key costs a store read.
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, ProblemTypes.TOO_MANY_FAILED_AUTHENTICATIONS,
                    "Too many failed authentications",
                    "Too many failed authentications from this address; keys not used here lately are refused for a minute.",
                    Map.of(), Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds())));
        }
        Authentication signedIn;
        try {
            signedIn = keys.authenticate(ApiKeyAuthentication.unchecked(key));
        }
        catch (BadCredentialsException ex) {
            boolean limited = failures.recordAndCheckLimit(request.getRemoteAddr(), key);
            log.info("Refused an admin sign-in with an unknown, revoked or expired API key from {}",
                    request.getRemoteAddr());
            if (limited) {
                throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, ProblemTypes.TOO_MANY_FAILED_AUTHENTICATIONS,
                        "Too many failed authentications",
                        "Too many failed authentications from this address with this key; wait a minute.", Map.of(),
                        Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds())));
            }
            throw new ApiException(HttpStatus.UNAUTHORIZED, ProblemTypes.UNAUTHORIZED, "Unauthorized",
                    "The API key is unknown, revoked or expired.");
        }
        ApiPrincipal principal = (ApiPrincipal) signedIn.getPrincipal();
        if (principal.role() != Role.ADMIN) {
            audit.record(principal.clientId(), AuditActions.SESSION_CREATE, "client", principal.clientId(), "denied", Map.of());
            throw ApiException.forbidden("The admin web app needs an API key with the role admin.");
        }
        sessions.signIn(signedIn, request, response);
        audit.success(principal.clientId(), AuditActions.SESSION_CREATE, "client", principal.clientId(), Map.of());
        return ResponseEntity.noContent().build();
    }

    @GetMapping
    ResponseEntity<SessionView> current(@AuthenticationPrincipal ApiPrincipal principal, CsrfToken csrf,
            HttpServletRequest request) {
        Instant expiresAt = sessions.absoluteExpiry(request).orElseThrow(() -> new ApiException(HttpStatus.UNAUTHORIZED,
                ProblemTypes.UNAUTHORIZED, "Unauthorized", "Nobody is signed in with this browser, or the session has expired."));
        SessionView view = new SessionView(principal.clientId(), clients.nameOf(principal.clientId()).orElse(null),
                principal.role().name().toLowerCase(Locale.ROOT), csrf.getToken(), expiresAt,
                sessions.idleTimeout().toSeconds());
        // The answer holds the CSRF token: no cache may keep it.
        return ResponseEntity.ok().cacheControl(CacheControl.noStore()).body(view);
    }
}
