package dev.postern.broker.mailproxy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import static org.assertj.core.api.Assertions.assertThat;

/** A raw protocol connection to the mail proxy in the tests: lines out, lines in, every read bounded. */
final class ProxyLines implements AutoCloseable {

    private final Socket socket;

    private final BufferedReader in;

    private final OutputStream out;

    private ProxyLines(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(15_000);
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        this.out = socket.getOutputStream();
    }

    static ProxyLines plain(int port) throws IOException {
        return new ProxyLines(new Socket("127.0.0.1", port));
    }

    /** TLS from the first byte, trusting only {@code certificate} and checking that it names the host. */
    static ProxyLines tls(TestMailCertificate certificate, int port) throws IOException {
        SSLSocket socket = (SSLSocket) certificate.clientContext().getSocketFactory().createSocket("127.0.0.1", port);
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        socket.setSSLParameters(parameters);
        socket.startHandshake();
        return new ProxyLines(socket);
    }

    void send(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    String read() throws IOException {
        String line = in.readLine();
        assertThat(line).as("a line from the proxy").isNotNull();
        return line;
    }

    String readTagged(String tag) throws IOException {
        String line;
        do {
            line = read();
        }
        while (!line.startsWith(tag + " "));
        return line;
    }

    List<String> readSmtpReply() throws IOException {
        List<String> lines = new ArrayList<>();
        String line;
        do {
            line = read();
            lines.add(line);
        }
        while (line.length() > 3 && line.charAt(3) == '-');
        return lines;
    }

    /**
     * The lines the proxy sends until it closes the connection (an end of stream or a reset), waiting
     * at most {@code within} for each; fails when the connection is still open after that.
     */
    List<String> linesUntilClosed(Duration within) throws IOException {
        socket.setSoTimeout((int) within.toMillis());
        List<String> lines = new ArrayList<>();
        try {
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
            }
        }
        catch (java.net.SocketTimeoutException ex) {
            throw new AssertionError("the proxy kept the connection open for " + within + " after " + lines, ex);
        }
        catch (IOException ex) {
            // A reset (or a TLS socket closed without close_notify) ends the connection as well.
        }
        return lines;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
