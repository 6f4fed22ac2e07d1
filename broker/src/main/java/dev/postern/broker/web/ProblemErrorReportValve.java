package dev.postern.broker.web;

import java.io.IOException;
import java.io.Writer;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.catalina.Pipeline;
import org.apache.catalina.Valve;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;

/**
 * Tomcat's last word, as an RFC 9457 problem instead of its HTML page. It answers what Tomcat
 * refuses before any filter or servlet runs, so neither Spring nor {@code /error} sees it: a
 * malformed percent-encoding, an encoded slash or NUL, an invalid character in the request line.
 * Nothing of the request is echoed; the request id is new, since no filter gave one.
 */
class ProblemErrorReportValve extends ErrorReportValve {

    private static final Logger log = LoggerFactory.getLogger(ProblemErrorReportValve.class);

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean ioAllowed = new AtomicBoolean(true);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        HttpStatus resolved = HttpStatus.resolve(status);
        HttpStatus problemStatus = resolved == null ? HttpStatus.BAD_REQUEST : resolved;
        String requestId = UUID.randomUUID().toString();
        ProblemDetail problem = Problems.of(problemStatus, Problems.typeFor(problemStatus),
                problemStatus.getReasonPhrase(), problemStatus.is5xxServerError()
                        ? "Postern could not complete the request; the request id leads to the log entry."
                        : "The request could not be understood: check the URL's encoding and the headers.");
        problem.setProperty("request_id", requestId);
        if (throwable != null && problemStatus.is5xxServerError()) {
            log.warn("[{}] Tomcat answered {} with an exception", requestId, status, throwable);
        }
        else if (throwable != null) {
            // Tomcat's message quotes the refused header line or request line, such as an Authorization
            // header with its API key or a connect link's URL: its type only.
            log.info("[{}] Tomcat refused a request with {}: {}", requestId, status, throwable.getClass().getSimpleName());
        }
        else {
            log.debug("[{}] Tomcat refused a request with {}", requestId, status);
        }
        try {
            response.setContentType("application/problem+json");
            response.setCharacterEncoding("UTF-8");
            response.setHeader(RequestIdFilter.HEADER, requestId);
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(Problems.json(problem));
                response.finishResponse();
            }
        }
        catch (IOException | IllegalStateException ex) {
            log.debug("Could not write the problem for a refused request: {}", ex.toString());
        }
    }

    /** Puts the valve in place of the ErrorReportValve Boot and Tomcat add to the host. */
    @Component
    static class Installer implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

        @Override
        public void customize(TomcatServletWebServerFactory factory) {
            factory.addContextCustomizers(context -> {
                if (!(context.getParent() instanceof StandardHost host)) {
                    return;
                }
                Pipeline pipeline = host.getPipeline();
                for (Valve valve : pipeline.getValves()) {
                    if (valve instanceof ErrorReportValve) {
                        pipeline.removeValve(valve);
                    }
                }
                // The host adds a valve of this class at start unless one is there: let it find ours.
                host.setErrorReportValveClass(ProblemErrorReportValve.class.getName());
                pipeline.addValve(new ProblemErrorReportValve());
            });
        }

        // After Boot's own customizer, which adds an HTML ErrorReportValve in a context customizer of its own.
        @Override
        public int getOrder() {
            return Ordered.LOWEST_PRECEDENCE;
        }
    }
}
