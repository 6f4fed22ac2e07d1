package dev.postern.broker;

import java.util.Map;

import org.springframework.http.HttpStatus;

/**
 * A failure any feature reports to the caller as an RFC 9457 problem response (rendered by the
 * web package). The message is the problem's {@code detail}: it must never contain a secret.
 */
public class ApiException extends RuntimeException {

    private final HttpStatus status;

    private final String type;

    private final String title;

    private final Map<String, Object> properties;

    private final Map<String, String> headers;

    public ApiException(HttpStatus status, String type, String title, String detail) {
        this(status, type, title, detail, Map.of(), Map.of());
    }

    public ApiException(HttpStatus status, String type, String title, String detail, Map<String, Object> properties,
            Map<String, String> headers) {
        super(detail);
        this.status = status;
        this.type = type;
        this.title = title;
        this.properties = Map.copyOf(properties);
        this.headers = Map.copyOf(headers);
    }

    /** 404 for an object that does not exist (or the caller may not know of). */
    public static ApiException notFound(String what) {
        return new ApiException(HttpStatus.NOT_FOUND, ProblemTypes.NOT_FOUND, "Not found", what + " does not exist.");
    }

    /** 400 naming the field that is wrong. */
    public static ApiException invalidField(String field, String message) {
        return new ApiException(HttpStatus.BAD_REQUEST, ProblemTypes.INVALID_REQUEST, "Invalid request",
                "The request has invalid fields: " + field + ".", Map.of("errors", Map.of(field, message)), Map.of());
    }

    /** 409 when the request contradicts the object's current state. */
    public static ApiException conflict(String type, String detail) {
        return new ApiException(HttpStatus.CONFLICT, type, "Conflict", detail);
    }

    /** 403 when the caller's role or scope does not allow the call. */
    public static ApiException forbidden(String detail) {
        return new ApiException(HttpStatus.FORBIDDEN, ProblemTypes.FORBIDDEN, "Forbidden", detail);
    }

    public HttpStatus status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String title() {
        return title;
    }

    public Map<String, Object> properties() {
        return properties;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
