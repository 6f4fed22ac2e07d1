package dev.postern.broker.access;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bypass corpus: every protected route, taken from the broker's own OpenAPI document (so a new
 * route is covered without editing this test) plus the actuator and admin routes outside it, sent
 * in the spellings that once reached handlers without a key ({@code /v1;x/clients},
 * {@code /%761/apps}, {@code /actuator/%70rometheus} ...), without a key and with a key of each role.
 * A caller the route is not open to gets 400, 401 or 403, never the handler; a caller it is open
 * to gets no 2xx from any spelling but the canonical one.
 */
class RouteBypassCorpusIntegrationTests extends ApiIntegrationTest {

    /** Routes outside the OpenAPI document that need a role. */
    private static final List<String> NON_API_PROTECTED_ROUTES = List.of("GET /actuator/prometheus",
            "GET /actuator/health/store", "GET /actuator/health/expiry", "GET /actuator/env", "GET /actuator",
            "GET /actuator/heapdump", "GET /admin/session");

    @Test
    void noSpellingOfAProtectedRouteReachesItsHandlerForACallerItIsNotOpenTo() {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("anonymous", null);
        keys.put("admin", ADMIN_KEY);
        keys.put("client", createClientKey("client", "[]"));
        keys.put("monitor", createClientKey("monitor", "[]"));
        Map<String, String> ids = realIds();

        List<String> routes = new ArrayList<>(protectedApiRoutes());
        routes.addAll(NON_API_PROTECTED_ROUTES);
        assertThat(routes).as("the OpenAPI document lists the v1 routes").hasSizeGreaterThan(15);

        List<String> reached = new ArrayList<>();
        int sent = 0;
        for (String route : routes) {
            String method = route.substring(0, route.indexOf(' '));
            String path = fill(route.substring(route.indexOf(' ') + 1), ids);
            String body = method.equals("POST") || method.equals("PATCH") ? "{}" : null;
            for (Map.Entry<String, String> caller : keys.entrySet()) {
                boolean openToCaller = isOpen(call(method, path, caller.getValue(), body).status());
                sent++;
                for (String variant : variants(path)) {
                    int status = call(method, variant, caller.getValue(), body).status();
                    sent++;
                    boolean refused = openToCaller ? status >= 300 : Set.of(400, 401, 403).contains(status);
                    if (!refused) {
                        reached.add(method + " " + variant + " as " + caller.getKey() + " -> " + status);
                    }
                }
            }
        }
        System.out.printf("[bypass corpus] %d routes, %d requests, %d reached a handler%n", routes.size(), sent,
                reached.size());
        assertThat(reached).isEmpty();
    }

    /** Every operation of the OpenAPI document outside the owner's public browser flow. */
    private Set<String> protectedApiRoutes() {
        Answer document = get("/v3/api-docs", null);
        assertThat(document.status()).isEqualTo(200);
        Set<String> routes = new LinkedHashSet<>();
        document.json().path("paths").properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            if (!path.getKey().startsWith("/connect/") && !path.getKey().equals("/oauth2/callback")) {
                routes.add(operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        return routes;
    }

    /** Ids of objects that exist, so a spelling that reached a handler would get a 2xx, not a 404. */
    private Map<String, String> realIds() {
        String app = createMicrosoftApp("bypass corpus");
        Answer credential = post("/v1/apps/" + app + "/credentials", ADMIN_KEY, """
                {"type":"client_secret","value":"bypass-corpus-secret-value","expires_at":"%s"}"""
            .formatted(Instant.now().plus(90, ChronoUnit.DAYS)));
        Answer client = post("/v1/clients", ADMIN_KEY, "{\"name\":\"bypass corpus\",\"role\":\"monitor\"}");
        return Map.of("appId", app, "credentialId", credential.json().path("credential").path("id").asString(),
                "clientId", client.text("id"), "accountId", "acc_bypasscorpus");
    }

    private static String fill(String template, Map<String, String> ids) {
        String path = template;
        for (Map.Entry<String, String> id : ids.entrySet()) {
            path = path.replace("{" + id.getKey() + "}", id.getValue());
        }
        return path.replaceAll("\\{[^}]+}", "x_doesnotexist");
    }

    private static boolean isOpen(int status) {
        return status != 401 && status != 403;
    }

    /** The same route in the spellings a prefix test or a lenient router has been fooled by. */
    static List<String> variants(String path) {
        List<String> variants = new ArrayList<>();
        String[] segments = path.substring(1).split("/");
        for (int i = 0; i < segments.length; i++) {
            variants.add(join(segments, i, segments[i] + ";x"));
            variants.add(join(segments, i, segments[i] + ";"));
        }
        // Each character of the fixed prefix (up to the first id), percent-encoded on its own.
        int prefixEnd = path.indexOf("/", 1 + segments[0].length() + 1);
        String prefix = prefixEnd < 0 ? path : path.substring(0, prefixEnd);
        // The leading '/' stays: without it the request line has no path at all.
        for (int i = 1; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            String encoded = "%" + String.format("%02X", (int) c);
            variants.add(path.substring(0, i) + encoded + path.substring(i + 1));
            variants.add(path.substring(0, i) + encoded.toLowerCase(Locale.ROOT) + path.substring(i + 1));
        }
        variants.add("/" + path);
        variants.add(path.replaceFirst("/([^/]+)/", "/$1//"));
        variants.add(path.replaceFirst("/([^/]+)/", "/$1/./"));
        variants.add("/." + path);
        variants.add(path.replaceFirst("/([^/]+)/", "/$1/x/..;/"));
        variants.add("/x/..;" + path);
        variants.add("/x/.." + path);
        variants.add(path + "/");
        variants.add(path + "/.");
        variants.add(path + ";x");
        variants.add(path.toUpperCase(Locale.ROOT));
        variants.add("/" + segments[0].toUpperCase(Locale.ROOT) + path.substring(1 + segments[0].length()));
        variants.add(path.replaceFirst("/([^/]+)/", "/$1/%2e/"));
        variants.add(path.replaceFirst("/([^/]+)/", "/$1/x/%2e%2e/"));
        variants.add(path.replaceFirst("/([^/]+)/", "/$1%2f"));
        variants.add(path.replaceFirst("/([^/]+)/", "/$1%5c"));
        variants.add(path.replaceFirst("/([^/]+)/", "/$1%00/"));
        variants.add(path + "%20");
        variants.removeIf(path::equals);
        return variants;
    }

    private static String join(String[] segments, int replaced, String replacement) {
        StringBuilder path = new StringBuilder();
        for (int i = 0; i < segments.length; i++) {
            path.append('/').append(i == replaced ? replacement : segments[i]);
        }
        return path.toString();
    }
}
