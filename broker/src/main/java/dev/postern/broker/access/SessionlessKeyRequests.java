package dev.postern.broker.access;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A request that carries an {@code Authorization} header is authenticated by it alone and sees no
 * servlet session, even when the admin web app's session cookie came along: the header wins over
 * the cookie, and the request can neither create a session nor change one. Without this, Spring
 * Security's {@code AuthenticationFilter} gave an accompanying admin session a new id after every
 * successful key (its session-fixation step), signing the admin page out.
 */
class SessionlessKeyRequests extends OncePerRequestFilter {

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        chain.doFilter(request.getHeader(HttpHeaders.AUTHORIZATION) == null ? request : new WithoutSession(request),
                response);
    }

    private static final class WithoutSession extends HttpServletRequestWrapper {

        WithoutSession(HttpServletRequest request) {
            super(request);
        }

        @Override
        public @Nullable HttpSession getSession(boolean create) {
            if (create) {
                throw new IllegalStateException("A request authenticated by its Authorization header has no session");
            }
            return null;
        }

        @Override
        public HttpSession getSession() {
            return getSession(true);
        }

        @Override
        public @Nullable String getRequestedSessionId() {
            return null;
        }

        @Override
        public boolean isRequestedSessionIdValid() {
            return false;
        }

        @Override
        public String changeSessionId() {
            throw new IllegalStateException("A request authenticated by its Authorization header has no session");
        }
    }
}
