package dev.postern.broker.web;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import dev.postern.broker.testing.ApiIntegrationTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One kept-alive connection carries many requests: Tomcat closed it after 100 by default, so a mail
 * client asking for its token over one connection had to reconnect every 100 asks.
 */
class KeptAliveConnectionIntegrationTests extends ApiIntegrationTest {

    @Test
    void oneConnectionCarriesFarMoreThanAHundredRequests() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            byte[] request = ("GET /actuator/health/liveness HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 1; i <= 300; i++) {
                out.write(request);
                out.flush();
                assertThat(in.readLine()).as("status line of request %d", i).startsWith("HTTP/1.1 200");
                int length = -1;
                boolean closing = false;
                for (String header = in.readLine(); !header.isEmpty(); header = in.readLine()) {
                    String lower = header.toLowerCase(java.util.Locale.ROOT);
                    if (lower.startsWith("content-length:")) {
                        length = Integer.parseInt(header.substring(15).strip());
                    }
                    closing |= lower.equals("connection: close");
                }
                assertThat(closing).as("request %d asked to close the connection", i).isFalse();
                if (length >= 0) {
                    skip(in, length);
                }
                else { // chunked: hex size lines, each chunk followed by CRLF, up to the empty chunk
                    for (int chunk = Integer.parseInt(in.readLine().strip(), 16); chunk > 0;
                            chunk = Integer.parseInt(in.readLine().strip(), 16)) {
                        skip(in, chunk);
                        in.readLine();
                    }
                    assertThat(in.readLine()).as("end of request %d's answer", i).isEmpty();
                }
            }
        }
    }

    private static void skip(BufferedReader in, int chars) throws java.io.IOException {
        char[] body = new char[chars];
        for (int read = 0; read < chars; ) {
            int got = in.read(body, read, chars - read);
            assertThat(got).as("the connection stayed open").isPositive();
            read += got;
        }
    }
}
