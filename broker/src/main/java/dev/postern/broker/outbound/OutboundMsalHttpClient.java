package dev.postern.broker.outbound;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.microsoft.aad.msal4j.HttpMethod;
import com.microsoft.aad.msal4j.IHttpClient;
import com.microsoft.aad.msal4j.IHttpResponse;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

/** msal4j's HTTP calls through an {@link OutboundHttp} client, so they obey the same rules. */
public final class OutboundMsalHttpClient implements IHttpClient {

    /** Headers the JDK connection sets itself. */
    private static final Set<String> RESTRICTED = Set.of("host", "connection", "content-length", "expect", "upgrade");

    private final RestClient client;

    public OutboundMsalHttpClient(RestClient client) {
        this.client = client;
    }

    @Override
    public IHttpResponse send(com.microsoft.aad.msal4j.HttpRequest request) throws Exception {
        RestClient.RequestBodySpec call = client
            .method(request.httpMethod() == HttpMethod.POST ? org.springframework.http.HttpMethod.POST
                    : org.springframework.http.HttpMethod.GET)
            .uri(URI.create(request.url().toString()));
        if (request.headers() != null) {
            for (Map.Entry<String, String> header : request.headers().entrySet()) {
                if (!RESTRICTED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                    call.header(header.getKey(), header.getValue());
                }
            }
        }
        if (request.httpMethod() == HttpMethod.POST) {
            call.body(request.body() == null ? "" : request.body());
        }
        try {
            return call.exchange((req, response) -> {
                com.microsoft.aad.msal4j.HttpResponse answer = new com.microsoft.aad.msal4j.HttpResponse()
                    .statusCode(response.getStatusCode().value())
                    .body(new String(response.getBody().readAllBytes(), StandardCharsets.UTF_8));
                Map<String, List<String>> headers = new LinkedHashMap<>();
                response.getHeaders().forEach(headers::put);
                answer.addHeaders(headers);
                return answer;
            }, true);
        }
        catch (ResourceAccessException ex) {
            // The I/O failure itself (a refused destination, a timeout), so callers can tell them apart.
            throw ex.getCause() instanceof IOException io ? io : ex;
        }
    }
}
