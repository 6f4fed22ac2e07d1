package dev.postern.broker.web;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

/**
 * The RFC 9457 problem documents Postern answers with. Each kind of failure has a stable
 * {@code type} under {@value #TYPE_BASE}, documented in docs/api.md.
 */
public final class Problems {

    /** The base of every problem type URI. */
    public static final String TYPE_BASE = "https://postern.dev/problems/";

    private Problems() {
    }

    /** A problem of {@code type} (a slug such as {@code invalid-request}) for {@code request}. */
    public static ProblemDetail of(HttpStatusCode status, String type, String title, String detail,
            HttpServletRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create(TYPE_BASE + type));
        problem.setTitle(title);
        decorate(problem, request);
        return problem;
    }

    /** The problem as the JSON members RFC 9457 names, for writers outside Spring MVC. */
    public static Map<String, Object> asMap(ProblemDetail problem) {
        Map<String, Object> members = new LinkedHashMap<>();
        members.put("type", String.valueOf(problem.getType()));
        members.put("title", problem.getTitle());
        members.put("status", problem.getStatus());
        members.put("detail", problem.getDetail());
        if (problem.getInstance() != null) {
            members.put("instance", problem.getInstance().toString());
        }
        if (problem.getProperties() != null) {
            members.putAll(problem.getProperties());
        }
        return members;
    }

    /** Adds the request id, and the instance when none is set. */
    public static void decorate(ProblemDetail problem, HttpServletRequest request) {
        String requestId = RequestIdFilter.current(request);
        if (requestId != null) {
            problem.setProperty("request_id", requestId);
        }
        if (problem.getInstance() == null) {
            problem.setInstance(uriOrNull(request.getRequestURI()));
        }
    }

    /**
     * {@code path} as a URI, or {@code null} when it is not one: a hostile request path must
     * never make the error answer itself fail.
     */
    static @Nullable URI uriOrNull(String path) {
        try {
            return URI.create(path);
        }
        catch (IllegalArgumentException ex) {
            return null;
        }
    }
}
