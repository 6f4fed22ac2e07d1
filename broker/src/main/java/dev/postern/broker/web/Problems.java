package dev.postern.broker.web;

import java.net.URI;

import jakarta.servlet.http.HttpServletRequest;

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

    /** Adds the request id, and the instance when none is set. */
    public static void decorate(ProblemDetail problem, HttpServletRequest request) {
        String requestId = RequestIdFilter.current(request);
        if (requestId != null) {
            problem.setProperty("request_id", requestId);
        }
        if (problem.getInstance() == null) {
            problem.setInstance(URI.create(request.getRequestURI()));
        }
    }
}
