package dev.postern.broker.web;

import java.util.Map;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Answers Boot's error path with an RFC 9457 problem, replacing Boot's own error body. Errors
 * reach it from outside Spring MVC: Tomcat refusing a malformed URL or percent-encoding, a
 * filter's {@code sendError}, an exception thrown in a filter. The detail is a fixed sentence per
 * status: the servlet's error message and exception are never shown, they may name internals.
 */
@RestController
class ProblemErrorController implements ErrorController {

    @RequestMapping(path = "${server.error.path:/error}", produces = { MediaType.APPLICATION_PROBLEM_JSON_VALUE,
            MediaType.APPLICATION_JSON_VALUE, MediaType.ALL_VALUE })
    ResponseEntity<Map<String, Object>> error(HttpServletRequest request) {
        HttpStatus status = statusOf(request);
        ProblemDetail problem = Problems.of(status, Problems.typeFor(status), status.getReasonPhrase(),
                detailFor(status));
        // The instance is the request that failed, not /error; one Tomcat refused may not even parse.
        Object original = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        Problems.decorate(problem, request);
        problem.setInstance(original instanceof String path ? Problems.uriOrNull(path) : null);
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(Problems.asMap(problem));
    }

    private static HttpStatus statusOf(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        if (code instanceof Integer value) {
            HttpStatus status = HttpStatus.resolve(value);
            if (status != null && status.isError()) {
                return status;
            }
        }
        return HttpStatus.INTERNAL_SERVER_ERROR;
    }

    private static String detailFor(HttpStatus status) {
        return switch (status) {
            case BAD_REQUEST -> "The request could not be understood: check the URL's encoding and the headers.";
            case NOT_FOUND -> "No such resource.";
            case CONTENT_TOO_LARGE -> "The request is larger than the broker accepts.";
            default -> status.is5xxServerError()
                    ? "Postern could not complete the request; the request id leads to the log entry."
                    : "The request was refused (" + status.value() + ").";
        };
    }
}
