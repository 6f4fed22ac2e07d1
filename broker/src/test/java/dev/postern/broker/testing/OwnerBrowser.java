package dev.postern.broker.testing;

import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A mailbox owner's browser for API tests: follows a connect link to the identity provider and
 * back, keeping cookies, and submits the provider's {@code form_post} page the way a browser's
 * script would. Fast and under the test's full control, for the connect and attack tests;
 * {@link ChromiumOwnerBrowser} drives a real Chromium through the same flow for the end-to-end test.
 */
public final class OwnerBrowser {

    private static final Pattern INPUT = Pattern.compile("<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", Pattern.CASE_INSENSITIVE);

    private static final Pattern ACTION = Pattern.compile("<form[^>]*action=\"([^\"]+)\"", Pattern.CASE_INSENSITIVE);

    private final HttpClient http;

    /** Where the last step landed and what it said. */
    public record Page(int status, URI uri, String body) {
    }

    public OwnerBrowser(TestIdentityProvider idp) {
        CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
        this.http = HttpClient.newBuilder()
            .cookieHandler(cookies)
            .sslContext(idp.sslContext())
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    }

    /** Opens {@code link} and follows redirects and form posts until a page that is neither. */
    public Page open(URI link) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(link).GET());
        for (int hops = 0; hops < 10; hops++) {
            if (response.statusCode() / 100 == 3) {
                URI next = response.uri().resolve(response.headers().firstValue("Location").orElseThrow());
                response = send(HttpRequest.newBuilder(next).GET());
                continue;
            }
            Matcher action = ACTION.matcher(response.body());
            if (response.statusCode() == 200 && action.find() && response.body().contains("code")) {
                response = submit(response.uri().resolve(unescape(action.group(1))), fields(response.body()));
                continue;
            }
            break;
        }
        return new Page(response.statusCode(), response.uri(), response.body());
    }

    /** Sends a GET to {@code uri} with this browser's cookies, without following redirects. */
    public Page get(URI uri) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri).GET());
        return new Page(response.statusCode(), response.uri(), response.body());
    }

    private HttpResponse<String> submit(URI action, Map<String, String> fields) {
        String form = fields.entrySet()
            .stream()
            .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
        return send(HttpRequest.newBuilder(action)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    private static Map<String, String> fields(String html) {
        Map<String, String> fields = new LinkedHashMap<>();
        Matcher input = INPUT.matcher(html);
        while (input.find()) {
            fields.put(input.group(1), unescape(input.group(2)));
        }
        return fields;
    }

    private static String unescape(String html) {
        return URLDecoder.decode(html.replace("&amp;", "&").replace("&#x2F;", "/").replace("&#47;", "/"), StandardCharsets.UTF_8)
            .replace("&quot;", "\"");
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
        }
        catch (java.io.IOException ex) {
            throw new IllegalStateException("the owner's browser could not load a page", ex);
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }
}
