package dev.postern.broker.outbound;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A peer on 127.0.0.1 (allow-listed in the test configuration) that answers the way a hostile
 * or broken service would: a huge answer, a redirect, an internal error text. It records every
 * request it receives, path and body.
 */
public final class FakePeer implements AutoCloseable {

    /** One request as received. */
    public record Received(String path, String body) {
    }

    private final HttpServer server;

    private final List<Received> received = new CopyOnWriteArrayList<>();

    public FakePeer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** {@code http://127.0.0.1:PORT} + {@code path}. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        received.add(new Received(path, new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
        switch (path) {
            case "/big" -> {
                // 300 KiB of a JSON answer that would otherwise say "the client is fine".
                String body = "{\"error\":\"invalid_grant\",\"pad\":\"" + "x".repeat(300 * 1024) + "\"}";
                answer(exchange, 400, body);
            }
            case "/redirect" -> {
                exchange.getResponseHeaders().add("Location", url("/target"));
                answer(exchange, 302, "");
            }
            case "/internal" -> answer(exchange, 400,
                    "{\"error\":\"internal_detail_code\",\"error_description\":\"db password is hunter2 at 10.0.0.7\"}");
            default -> answer(exchange, 400, "{\"error\":\"invalid_grant\"}");
        }
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
