package dev.postern.broker.access;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

import org.jspecify.annotations.Nullable;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextImpl;
import org.springframework.security.web.context.HttpSessionSecurityContextRepository;
import org.springframework.security.web.context.SecurityContextRepository;
import org.springframework.security.core.context.DeferredSecurityContext;
import org.springframework.stereotype.Component;

import dev.postern.broker.Role;
import dev.postern.broker.store.StoreUnavailableException;

/**
 * Keeps the admin web app's sign-in in the servlet session (Spring Security's
 * {@link HttpSessionSecurityContextRepository}) and checks it again on every request: a session
 * idle longer than {@code postern.admin.session-idle-timeout} or older than
 * {@code session-absolute-timeout} ends, and so does one whose API client is no longer a usable
 * admin. Times are read from the broker's {@link Clock}, not the container's, so tests can move it.
 */
@Component
class AdminSessionSecurityContextRepository implements SecurityContextRepository {

    private static final String CREATED_AT = AdminSessionSecurityContextRepository.class.getName() + ".createdAt";

    private static final String LAST_USED_AT = AdminSessionSecurityContextRepository.class.getName() + ".lastUsedAt";

    private final HttpSessionSecurityContextRepository sessions = sessionsThatAreNeverCreatedHere();

    private final ApiClientService clients;

    private final Clock clock;

    private final Duration idleTimeout;

    private final Duration absoluteTimeout;

    /** Sessions are created by {@link #signIn} alone, never as a side effect of saving a context. */
    private static HttpSessionSecurityContextRepository sessionsThatAreNeverCreatedHere() {
        HttpSessionSecurityContextRepository repository = new HttpSessionSecurityContextRepository();
        repository.setAllowSessionCreation(false);
        return repository;
    }

    AdminSessionSecurityContextRepository(ApiClientService clients, Clock clock, AdminSessionProperties properties) {
        this.clients = clients;
        this.clock = clock;
        this.idleTimeout = properties.sessionIdleTimeout();
        this.absoluteTimeout = properties.sessionAbsoluteTimeout();
    }

    /**
     * Starts a new session for {@code admin} (ending any session the browser had, so a planted
     * session id is never promoted) and stores the sign-in in it.
     */
    void signIn(Authentication admin, HttpServletRequest request, HttpServletResponse response) {
        HttpSession old = request.getSession(false);
        if (old != null) {
            old.invalidate();
        }
        HttpSession session = request.getSession(true);
        Instant now = clock.instant();
        session.setAttribute(CREATED_AT, now);
        session.setAttribute(LAST_USED_AT, now);
        SecurityContext context = new SecurityContextImpl(admin);
        SecurityContextHolder.getContextHolderStrategy().setContext(context);
        sessions.saveContext(context, request, response);
    }

    /** When the session of {@code request} ends at the latest, used or not. */
    Optional<Instant> absoluteExpiry(HttpServletRequest request) {
        HttpSession session = request.getSession(false);
        return session == null ? Optional.empty()
                : Optional.ofNullable((Instant) session.getAttribute(CREATED_AT)).map(c -> c.plus(absoluteTimeout));
    }

    Duration idleTimeout() {
        return idleTimeout;
    }

    Duration absoluteTimeout() {
        return absoluteTimeout;
    }

    @Override
    public DeferredSecurityContext loadDeferredContext(HttpServletRequest request) {
        DeferredSecurityContext stored = sessions.loadDeferredContext(request);
        return new DeferredSecurityContext() {

            private @Nullable SecurityContext checked;

            @Override
            public SecurityContext get() {
                if (checked == null) {
                    checked = check(request, stored);
                }
                return checked;
            }

            @Override
            public boolean isGenerated() {
                return get().getAuthentication() == null;
            }
        };
    }

    private SecurityContext check(HttpServletRequest request, DeferredSecurityContext stored) {
        if (stored.isGenerated() || !(stored.get().getAuthentication() instanceof ApiKeyAuthentication signedIn)
                || signedIn.getPrincipal() == null) {
            return SecurityContextHolder.getContextHolderStrategy().createEmptyContext();
        }
        HttpSession session = request.getSession(false);
        Instant now = clock.instant();
        if (session == null || !stillValid(session, now)) {
            return ended(session);
        }
        Optional<ApiPrincipal> admin;
        try {
            // Re-checked on every call: a revoked or expired admin key ends its sessions at once.
            admin = clients.principalOf(signedIn.getPrincipal().clientId()).filter(p -> p.role() == Role.ADMIN);
        }
        catch (StoreUnavailableException ex) {
            throw new ApiKeyAuthenticationProvider.StoreUnavailableAuthenticationException(ex);
        }
        if (admin.isEmpty()) {
            return ended(session);
        }
        session.setAttribute(LAST_USED_AT, now);
        return new SecurityContextImpl(ApiKeyAuthentication.of(admin.get()));
    }

    private boolean stillValid(HttpSession session, Instant now) {
        Instant createdAt = (Instant) session.getAttribute(CREATED_AT);
        Instant lastUsedAt = (Instant) session.getAttribute(LAST_USED_AT);
        return createdAt != null && lastUsedAt != null && now.isBefore(createdAt.plus(absoluteTimeout))
                && now.isBefore(lastUsedAt.plus(idleTimeout));
    }

    private static SecurityContext ended(@Nullable HttpSession session) {
        if (session != null) {
            try {
                session.invalidate();
            }
            catch (IllegalStateException alreadyInvalidated) {
                // Another request of the same browser ended it first; the outcome is the same.
            }
        }
        return SecurityContextHolder.getContextHolderStrategy().createEmptyContext();
    }

    @Override
    @SuppressWarnings("deprecation")
    public SecurityContext loadContext(org.springframework.security.web.context.HttpRequestResponseHolder holder) {
        return loadDeferredContext(holder.getRequest()).get();
    }

    @Override
    public void saveContext(SecurityContext context, HttpServletRequest request, HttpServletResponse response) {
        // A request with an API key sees no session (SessionlessKeyRequests), and none is created
        // here: only signIn stores an authentication in a session.
        sessions.saveContext(context, request, response);
    }

    @Override
    public boolean containsContext(HttpServletRequest request) {
        return sessions.containsContext(request);
    }
}
