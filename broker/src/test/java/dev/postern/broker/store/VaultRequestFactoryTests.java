package dev.postern.broker.store;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpInputMessage;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpOutputMessage;
import org.springframework.http.MediaType;
import org.springframework.http.client.ClientHttpRequestFactory;
import org.springframework.http.converter.AbstractHttpMessageConverter;
import org.springframework.http.converter.StringHttpMessageConverter;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VaultRequestFactoryTests {

    private HttpServer server;

    private final List<Map<String, List<String>>> headersSeen = new CopyOnWriteArrayList<>();

    private final Map<String, String> bodiesSeen = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/secret/data/", exchange -> {
            headersSeen.add(Map.copyOf(exchange.getRequestHeaders()));
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            bodiesSeen.put(exchange.getRequestURI().getPath(), body);
            boolean stale = body.contains("\"cas\":0");
            byte[] answer = (stale ? "{\"errors\":[\"check-and-set parameter did not match the current version\"]}"
                    : "{\"data\":{\"version\":2}}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(stale ? 400 : 200, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        // A Raft standby sends clients to the active node.
        server.createContext("/v1/standby/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Location", url("/v1/secret/data/" + exchange.getRequestURI().getPath()
                .substring("/v1/standby/".length())));
            exchange.sendResponseHeaders(307, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private static ClientHttpRequestFactory factory(Duration readTimeout) {
        return new VaultRequestFactory(null, Duration.ofSeconds(2), readTimeout);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Writes a string body, remembering the thread that wrote it. */
    private static final class RecordingConverter extends AbstractHttpMessageConverter<String> {

        private final AtomicReference<Thread> writer = new AtomicReference<>();

        RecordingConverter() {
            super(MediaType.APPLICATION_JSON);
        }

        @Override
        protected boolean supports(Class<?> type) {
            return type == String.class;
        }

        @Override
        protected String readInternal(Class<? extends String> type, HttpInputMessage input) throws IOException {
            return new String(input.getBody().readAllBytes(), StandardCharsets.UTF_8);
        }

        @Override
        protected void writeInternal(String body, HttpOutputMessage output) throws IOException {
            writer.set(Thread.currentThread());
            output.getBody().write(body.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void sendsTheBodyWholeWithItsLengthFromTheCallingThread() {
        RecordingConverter converter = new RecordingConverter();
        RestTemplate rest = new RestTemplate(List.of(converter));
        rest.setRequestFactory(factory(Duration.ofSeconds(5)));
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(MediaType.APPLICATION_JSON);
        String body = "{\"options\":{\"cas\":1},\"data\":{\"data\":\"" + "x".repeat(3000) + "\"}}";

        for (int i = 0; i < 3; i++) {
            String answer = rest.exchange(url("/v1/secret/data/doc" + i), HttpMethod.POST, new HttpEntity<>(body, headers),
                    String.class).getBody();
            assertThat(answer).isEqualTo("{\"data\":{\"version\":2}}");
            // No thread of its own for the body (Spring's JDK factory starts a platform thread per request for it).
            assertThat(converter.writer.get()).isSameAs(Thread.currentThread());
        }
        assertThat(bodiesSeen).containsEntry("/v1/secret/data/doc2", body);
        assertThat(headersSeen).hasSize(3).allSatisfy(seen -> {
            assertThat(seen).containsEntry("Content-length", List.of(String.valueOf(body.length())));
            assertThat(seen).doesNotContainKeys("Transfer-encoding", "Upgrade", "Http2-settings");
        });
    }

    @Test
    void followsAStandbysRedirectWithTheSameMethodBodyAndToken() {
        RestTemplate rest = new RestTemplate(List.of(new StringHttpMessageConverter()));
        rest.setRequestFactory(factory(Duration.ofSeconds(5)));
        HttpHeaders headers = new HttpHeaders();
        headers.add("X-Vault-Token", "test-token");
        String body = "{\"options\":{\"cas\":3},\"data\":{}}";

        String answer = rest.exchange(url("/v1/standby/moved"), HttpMethod.POST, new HttpEntity<>(body, headers),
                String.class).getBody();

        assertThat(answer).isEqualTo("{\"data\":{\"version\":2}}");
        assertThat(bodiesSeen).containsEntry("/v1/secret/data/moved", body);
        assertThat(headersSeen).singleElement()
            .satisfies(seen -> assertThat(seen).containsEntry("X-vault-token", List.of("test-token")));
    }

    @Test
    void answersWithAnErrorStatusKeepTheirBody() {
        RestTemplate rest = new RestTemplate(List.of(new StringHttpMessageConverter()));
        rest.setRequestFactory(factory(Duration.ofSeconds(5)));

        assertThatThrownBy(() -> rest.exchange(url("/v1/secret/data/stale"), HttpMethod.POST,
                new HttpEntity<>("{\"options\":{\"cas\":0}}"), String.class))
            .isInstanceOfSatisfying(HttpClientErrorException.class, ex -> {
                assertThat(ex.getStatusCode().value()).isEqualTo(400);
                assertThat(ex.getResponseBodyAsString()).contains("check-and-set");
            });
    }

    @Test
    void givesUpOnAServerThatAcceptsButNeverAnswers() throws IOException {
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept());
                    }
                }
                catch (IOException closed) {
                    // the test is over
                }
            });
            RestTemplate rest = new RestTemplate(List.of(new StringHttpMessageConverter()));
            rest.setRequestFactory(factory(Duration.ofMillis(300)));
            long started = System.nanoTime();

            assertThatThrownBy(() -> rest.exchange("http://127.0.0.1:" + silent.getLocalPort() + "/v1/secret/data/x",
                    HttpMethod.POST, new HttpEntity<>("{}"), String.class))
                .isInstanceOf(ResourceAccessException.class)
                .hasRootCauseInstanceOf(SocketTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        }
        finally {
            for (Socket socket : accepted) {
                socket.close();
            }
        }
    }
}
