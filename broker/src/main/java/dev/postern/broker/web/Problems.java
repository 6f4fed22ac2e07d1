package dev.postern.broker.web;

import java.io.IOException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import tools.jackson.databind.json.JsonMapper;

import dev.postern.broker.ProblemTypes;

/**
 * The one place that builds the RFC 9457 problem documents Postern answers with, whether Spring
 * MVC renders them ({@link ProblemResponses}, {@link ProblemErrorController}) or a filter, Spring
 * Security or Tomcat writes them ({@link #write}). Each kind of failure has a stable {@code type}
 * under {@value #TYPE_BASE}, one of {@link ProblemTypes}, documented in docs/api.md.
 */
public final class Problems {

    /** The base of every problem type URI. */
    public static final String TYPE_BASE = "https://postern.dev/problems/";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Problems() {
    }

    /** A problem of {@code type} (one of {@link ProblemTypes}), not yet tied to a request. */
    public static ProblemDetail of(HttpStatusCode status, String type, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(URI.create(TYPE_BASE + type));
        problem.setTitle(title);
        return problem;
    }

    /** A problem of {@code type} (one of {@link ProblemTypes}) for {@code request}. */
    public static ProblemDetail of(HttpStatusCode status, String type, String title, String detail,
            HttpServletRequest request) {
        ProblemDetail problem = of(status, type, title, detail);
        decorate(problem, request);
        return problem;
    }

    /** The problem type of a bare HTTP status, for refusals that have no type of their own. */
    static String typeFor(HttpStatusCode status) {
        return switch (status.value()) {
            case 400 -> ProblemTypes.INVALID_REQUEST;
            case 404 -> ProblemTypes.NOT_FOUND;
            case 405 -> ProblemTypes.METHOD_NOT_ALLOWED;
            case 406 -> ProblemTypes.NOT_ACCEPTABLE;
            case 413 -> ProblemTypes.PAYLOAD_TOO_LARGE;
            case 415 -> ProblemTypes.UNSUPPORTED_MEDIA_TYPE;
            default -> status.is5xxServerError() ? ProblemTypes.INTERNAL_ERROR : "http-" + status.value();
        };
    }

    /**
     * Writes {@code problem} for {@code request} with extra {@code headers}, outside Spring MVC (a
     * filter, an authentication entry point).
     */
    public static void write(ProblemDetail problem, HttpServletRequest request, HttpServletResponse response,
            Map<String, String> headers) throws IOException {
        decorate(problem, request);
        headers.forEach(response::setHeader);
        response.setStatus(problem.getStatus());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        JSON.writeValue(response.getOutputStream(), asMap(problem));
    }

    /** The problem as JSON, for Tomcat's error report, which writes text itself. */
    static String json(ProblemDetail problem) {
        return JSON.writeValueAsString(asMap(problem));
    }

    /** The problem as the JSON members RFC 9457 names, for writers outside Spring MVC. */
    static Map<String, Object> asMap(ProblemDetail problem) {
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
    static void decorate(ProblemDetail problem, HttpServletRequest request) {
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
