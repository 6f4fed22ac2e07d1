package dev.postern.broker.access;

import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import jakarta.servlet.http.Cookie;
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
import org.springframework.http.ResponseCookie;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.ApiException;
import dev.postern.broker.Role;
import dev.postern.broker.audit.AuditLog;

/**
 * Sign-in of the admin web app: {@code /admin/session} trades an admin API key for a session
 * cookie, so the key is typed once and never kept by the browser.
 */
@RestController
@RequestMapping("/admin/session")
class AdminSessionController {

    private static final Logger log = LoggerFactory.getLogger(AdminSessionController.class);

    /** The session cookie's name. */
    static final String COOKIE = "postern_session";

    /** The header that carries the session's CSRF token on every change. */
    static final String CSRF_HEADER = "X-CSRF-Token";

    private final ApiClientService clients;

    private final AdminSessions sessions;

    private final FailedAuthentications failures;

    private final AuditLog audit;

    AdminSessionController(ApiClientService clients, AdminSessions sessions, FailedAuthentications failures,
            AuditLog audit) {
        this.clients = clients;
        this.sessions = sessions;
        this.failures = failures;
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
    ResponseEntity<Void> signIn(@Valid @RequestBody SignInRequest body, HttpServletRequest request) {
        String source = request.getRemoteAddr();
        if (failures.isLimited(source)) {
            throw new ApiException(HttpStatus.TOO_MANY_REQUESTS, "too-many-failed-authentications",
                    "Too many failed authentications", "Too many failed authentications from this address; wait a minute.",
                    Map.of(), Map.of(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds())));
        }
        Optional<ApiPrincipal> principal = clients.authenticate(body.apiKey().strip());
        if (principal.isEmpty()) {
            failures.record(source);
            log.info("Refused an admin sign-in with an unknown, revoked or expired API key from {}", source);
            throw new ApiException(HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                    "The API key is unknown, revoked or expired.");
        }
        String clientId = principal.get().clientId();
        if (principal.get().role() != Role.ADMIN) {
            audit.record(clientId, "session.create", "client", clientId, "denied", Map.of());
            throw ApiException.forbidden("The admin web app needs an API key with the role admin.");
        }
        sessions.end(sessionCookie(request));
        AdminSessions.Created created = sessions.create(clientId);
        audit.success(clientId, "session.create", "client", clientId, Map.of());
        return ResponseEntity.noContent()
            .header(HttpHeaders.SET_COOKIE, cookie(created.id(), request, sessions.absoluteTimeout().toSeconds()))
            .build();
    }

    @GetMapping
    ResponseEntity<SessionView> current(HttpServletRequest request) {
        AdminSessions.AdminSession session = sessions.find(sessionCookie(request)).orElseThrow(AdminSessionController::signedOut);
        ApiPrincipal principal = clients.principalOf(session.clientId())
            .filter(p -> p.role() == Role.ADMIN)
            .orElseThrow(AdminSessionController::signedOut);
        SessionView view = new SessionView(principal.clientId(), clients.nameOf(principal.clientId()).orElse(null),
                principal.role().name().toLowerCase(Locale.ROOT), session.csrfToken(), sessions.absoluteExpiry(session),
                sessions.idleTimeout().toSeconds());
        // The answer holds the CSRF token: no cache may keep it.
        return ResponseEntity.ok().cacheControl(CacheControl.noStore()).body(view);
    }

    @DeleteMapping
    ResponseEntity<Void> signOut(HttpServletRequest request) {
        String id = sessionCookie(request);
        Optional<AdminSessions.AdminSession> session = sessions.find(id);
        if (session.isPresent()) {
            // Without this, any page could sign an admin out by sending a DELETE with the cookie.
            if (!session.get().csrfTokenMatches(request.getHeader(CSRF_HEADER))) {
                throw ApiException.forbidden("Signing out with the session cookie needs the session's X-CSRF-Token header.");
            }
            sessions.end(id);
            audit.success(session.get().clientId(), "session.delete", "client", session.get().clientId(), Map.of());
        }
        return ResponseEntity.noContent().header(HttpHeaders.SET_COOKIE, cookie("", request, 0)).build();
    }

    private static ApiException signedOut() {
        return new ApiException(HttpStatus.UNAUTHORIZED, "unauthorized", "Unauthorized",
                "Nobody is signed in with this browser, or the session has expired.");
    }

    private static String cookie(String value, HttpServletRequest request, long maxAgeSeconds) {
        return ResponseCookie.from(COOKIE, value)
            .httpOnly(true)
            .sameSite("Strict")
            // Secure when the request came over TLS (directly or, with forwarded headers on, via a proxy);
            // a plain-http loopback broker would otherwise never get its cookie back.
            .secure(request.isSecure())
            .path("/")
            .maxAge(maxAgeSeconds)
            .build()
            .toString();
    }

    /** The session cookie's value on {@code request}, or {@code null}. */
    static @Nullable String sessionCookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (COOKIE.equals(cookie.getName()) && !cookie.getValue().isEmpty()) {
                return cookie.getValue();
            }
        }
        return null;
    }

    /** Whether {@code request} cannot change anything, so needs no CSRF token. */
    static boolean isSafeMethod(HttpServletRequest request) {
        String method = request.getMethod();
        return "GET".equals(method) || "HEAD".equals(method) || "OPTIONS".equals(method);
    }
}
