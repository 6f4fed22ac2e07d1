package dev.postern.broker.web;

import java.io.IOException;
import java.util.UUID;
import java.util.regex.Pattern;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Gives every request an id, returned in {@code X-Request-Id} and put in the log context so every
 * log line the request causes carries it. A caller's own id is kept when it is short and plain.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class RequestIdFilter extends OncePerRequestFilter {

    /** The header that carries the request id both ways. */
    public static final String HEADER = "X-Request-Id";

    /** The log context key and request attribute of the request id. */
    public static final String KEY = "request_id";

    private static final Pattern ACCEPTED = Pattern.compile("[A-Za-z0-9._-]{8,64}");

    // Errors forwarded to /error (by Tomcat or by sendError) get the id too: their problem body carries it.
    @Override
    protected boolean shouldNotFilterErrorDispatch() {
        return false;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String offered = request.getHeader(HEADER);
        String requestId = current(request);
        if (requestId == null) {
            requestId = offered != null && ACCEPTED.matcher(offered).matches() ? offered : UUID.randomUUID().toString();
        }
        request.setAttribute(KEY, requestId);
        response.setHeader(HEADER, requestId);
        MDC.put(KEY, requestId);
        try {
            chain.doFilter(request, response);
        }
        finally {
            MDC.remove(KEY);
        }
    }

    /** The id of the current request, or {@code null} outside a request. */
    public static String current(HttpServletRequest request) {
        Object id = request.getAttribute(KEY);
        return id == null ? null : id.toString();
    }
}
