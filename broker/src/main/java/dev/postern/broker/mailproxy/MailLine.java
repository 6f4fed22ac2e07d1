package dev.postern.broker.mailproxy;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;

/**
 * One side of a session as lines: reads CRLF-terminated command lines with a length limit and writes
 * answers. Its buffered input is what the relay copies on from after login, so bytes a client sent
 * right behind its login command are not lost.
 */
final class MailLine {

    /** A line longer than the limit. */
    static final class TooLongException extends IOException {

        TooLongException() {
            super("line too long");
        }
    }

    final Socket socket;

    final InputStream in;

    final OutputStream out;

    MailLine(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
        this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
    }

    /**
     * The next line without its CRLF (a bare LF ends it too), or {@code null} at the end of the
     * stream. Bytes are read as UTF-8: commands are ASCII, user names may be UTF-8.
     */
    @Nullable String readLine(int maxLength) throws IOException {
        byte[] buffer = new byte[Math.min(maxLength, 1024)];
        int length = 0;
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                if (length > 0 && buffer[length - 1] == '\r') {
                    length--;
                }
                return new String(buffer, 0, length, StandardCharsets.UTF_8);
            }
            if (length == maxLength) {
                throw new TooLongException();
            }
            if (length == buffer.length) {
                buffer = java.util.Arrays.copyOf(buffer, Math.min(maxLength, buffer.length * 2));
            }
            buffer[length++] = (byte) b;
        }
        return null;
    }

    /** Exactly {@code count} bytes (an IMAP literal). */
    byte[] readBytes(int count) throws IOException {
        byte[] bytes = in.readNBytes(count);
        if (bytes.length < count) {
            throw new java.io.EOFException("the stream ended inside a literal");
        }
        return bytes;
    }

    /** Writes {@code line} and CRLF, and sends it. */
    void writeLine(String line) throws IOException {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write('\r');
        out.write('\n');
        out.flush();
    }

    void close() {
        try {
            socket.close();
        }
        catch (IOException ex) {
            // closing after the session ended; nothing left to tell anyone
        }
    }
}
