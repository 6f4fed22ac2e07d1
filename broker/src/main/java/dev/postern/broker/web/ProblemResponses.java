package dev.postern.broker.web;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.validation.FieldError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.store.DocumentIntegrityException;
import dev.postern.broker.store.InvalidSecretPathException;
import dev.postern.broker.store.SecretStoreException;
import dev.postern.broker.store.StoreUnavailableException;
import dev.postern.broker.store.VersionConflictException;

/**
 * Turns every failure into an RFC 9457 problem response with a stable type and the request id.
 * Unexpected failures are logged with their stack trace and answered with a generic 500: no
 * internal message ever reaches the caller.
 */
@RestControllerAdvice
public class ProblemResponses extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemResponses.class);

    /** Seconds a client should wait before retrying when the store is unavailable. */
    static final String STORE_RETRY_AFTER_SECONDS = "5";

    @ExceptionHandler(ApiException.class)
    ResponseEntity<ProblemDetail> apiException(ApiException ex, HttpServletRequest request) {
        ProblemDetail problem = Problems.of(ex.status(), ex.type(), ex.title(), ex.getMessage(), request);
        ex.properties().forEach(problem::setProperty);
        HttpHeaders headers = new HttpHeaders();
        ex.headers().forEach(headers::add);
        return ResponseEntity.status(ex.status()).headers(headers).body(problem);
    }

    @ExceptionHandler(StoreUnavailableException.class)
    ResponseEntity<ProblemDetail> storeUnavailable(StoreUnavailableException ex, HttpServletRequest request) {
        log.warn("Store unavailable: {}", ex.getMessage());
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
            .header(HttpHeaders.RETRY_AFTER, STORE_RETRY_AFTER_SECONDS)
            .body(Problems.of(HttpStatus.SERVICE_UNAVAILABLE, ProblemTypes.STORE_UNAVAILABLE, "Secret store unavailable",
                    "The secret store cannot be used right now; try again shortly.", request));
    }

    @ExceptionHandler(VersionConflictException.class)
    ResponseEntity<ProblemDetail> versionConflict(VersionConflictException ex, HttpServletRequest request) {
        return ResponseEntity.status(HttpStatus.CONFLICT)
            .body(Problems.of(HttpStatus.CONFLICT, ProblemTypes.CONFLICT, "Concurrent change",
                    "The object was changed by another request at the same time; read it again and retry.", request));
    }

    @ExceptionHandler(InvalidSecretPathException.class)
    ResponseEntity<ProblemDetail> invalidId(InvalidSecretPathException ex, HttpServletRequest request) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND)
            .body(Problems.of(HttpStatus.NOT_FOUND, ProblemTypes.NOT_FOUND, "Not found", "No such object.", request));
    }

    // The store logged the path and the failed check once at WARN; the caller learns neither.
    @ExceptionHandler(DocumentIntegrityException.class)
    ResponseEntity<ProblemDetail> storeIntegrity(DocumentIntegrityException ex, HttpServletRequest request) {
        return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR)
            .body(Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, ProblemTypes.STORE_INTEGRITY, "Stored data refused",
                    "A stored document failed its integrity check and was not used; an operator must restore it.",
                    request));
    }

    @ExceptionHandler(SecretStoreException.class)
    ResponseEntity<ProblemDetail> storeFailure(SecretStoreException ex, HttpServletRequest request) {
        log.error("Store failure: {}", ex.getMessage(), ex);
        return internalError(request);
    }

    // Tomcat refuses a malformed query string or form (an empty name, a broken %-escape) only when a
    // parameter is first read, inside the handler: the caller's mistake, not ours.
    @ExceptionHandler(InvalidParameterException.class)
    ResponseEntity<ProblemDetail> invalidParameters(InvalidParameterException ex, HttpServletRequest request) {
        // Not Tomcat's message: it quotes the parameter's value, which may be a secret (the callback's code).
        log.info("Refused malformed request parameters");
        return ResponseEntity.badRequest()
            .body(Problems.of(HttpStatus.BAD_REQUEST, ProblemTypes.INVALID_REQUEST, "Invalid request",
                    "The query string or form body is malformed.", request));
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception ex, HttpServletRequest request) {
        log.error("Unexpected failure handling {} {}", request.getMethod(), request.getRequestURI(), ex);
        return internalError(request);
    }

    private static ResponseEntity<ProblemDetail> internalError(HttpServletRequest request) {
        return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR)
            .body(Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, ProblemTypes.INTERNAL_ERROR, "Internal error",
                    "Postern could not complete the request; the request id leads to the log entry.", request));
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (FieldError error : ex.getBindingResult().getFieldErrors()) {
            fields.putIfAbsent(snakeCase(error.getField()), error.getDefaultMessage());
        }
        ProblemDetail problem = Problems.of(HttpStatus.BAD_REQUEST, ProblemTypes.INVALID_REQUEST, "Invalid request",
                "The request has invalid fields: " + String.join(", ", fields.keySet()) + ".");
        problem.setProperty("errors", fields);
        return handleExceptionInternal(ex, problem, headers, HttpStatus.BAD_REQUEST, request);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        if (causedByTooLargeBody(ex)) {
            ProblemDetail problem = Problems.of(HttpStatus.CONTENT_TOO_LARGE, ProblemTypes.PAYLOAD_TOO_LARGE,
                    "Request body too large", "The request body is larger than the broker accepts.");
            return handleExceptionInternal(ex, problem, headers, HttpStatus.CONTENT_TOO_LARGE, request);
        }
        // Name the offending field from Jackson's path; never echo the input value, it may be a secret.
        String field = null;
        String problemText = "is not valid JSON for this request";
        if (ex.getCause() instanceof DatabindException databind && !databind.getPath().isEmpty()) {
            field = databind.getPath()
                .stream()
                .map(ref -> ref.getPropertyName() != null ? ref.getPropertyName() : "[" + ref.getIndex() + "]")
                .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b)
                .orElse(null);
            problemText = databind instanceof UnrecognizedPropertyException ? "is not a known field"
                    : "has the wrong type or format";
        }
        ProblemDetail problem = Problems.of(HttpStatus.BAD_REQUEST, ProblemTypes.INVALID_REQUEST, "Invalid request",
                field == null ? "The request body is not valid JSON for this call."
                        : "The request has invalid fields: " + field + ".");
        if (field != null) {
            problem.setProperty("errors", Map.of(field, problemText));
        }
        return handleExceptionInternal(ex, problem, headers, HttpStatus.BAD_REQUEST, request);
    }

    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode status,
            WebRequest request) {
        if (body instanceof ProblemDetail problem && request instanceof ServletWebRequest servlet) {
            if (problem.getType() == null || "about:blank".equals(String.valueOf(problem.getType()))) {
                problem.setType(URI.create(Problems.TYPE_BASE + Problems.typeFor(status)));
            }
            Problems.decorate(problem, servlet.getRequest());
        }
        return super.createResponseEntity(body, headers, status, request);
    }

    /** Whether a chunked body was cut off by {@link RequestSizeLimitFilter} while Jackson read it. */
    private static boolean causedByTooLargeBody(Throwable ex) {
        for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
            if (cause instanceof RequestSizeLimitFilter.BodyTooLargeException) {
                return true;
            }
        }
        return false;
    }

    /** Field names as the JSON API spells them. */
    private static String snakeCase(String javaName) {
        return javaName.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
    }
}
