package dev.postern.broker.providers;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.microsoft.aad.msal4j.HttpMethod;
import com.microsoft.aad.msal4j.IHttpClient;
import com.microsoft.aad.msal4j.IHttpResponse;

/**
 * msal4j's HTTP calls through {@link ProviderHttp}'s client, so they share its timeouts and
 * trusted certificates.
 */
class MsalHttpClient implements IHttpClient {

    /** Headers the JDK client sets itself and refuses to take from callers. */
    private static final Set<String> RESTRICTED = Set.of("host", "connection", "content-length", "expect", "upgrade");

    private final HttpClient client;

    private final Duration timeout;

    MsalHttpClient(HttpClient client, Duration timeout) {
        this.client = client;
        this.timeout = timeout;
    }

    @Override
    public IHttpResponse send(com.microsoft.aad.msal4j.HttpRequest request) throws Exception {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(request.url().toString())).timeout(timeout);
        if (request.headers() != null) {
            for (Map.Entry<String, String> header : request.headers().entrySet()) {
                if (!RESTRICTED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                    builder.header(header.getKey(), header.getValue());
                }
            }
        }
        if (request.httpMethod() == HttpMethod.POST) {
            builder.POST(HttpRequest.BodyPublishers.ofString(request.body() == null ? "" : request.body()));
        }
        else {
            builder.GET();
        }
        HttpResponse<String> response = client.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        com.microsoft.aad.msal4j.HttpResponse answer = new com.microsoft.aad.msal4j.HttpResponse()
            .statusCode(response.statusCode())
            .body(response.body());
        answer.addHeaders(response.headers().map());
        return answer;
    }
}
