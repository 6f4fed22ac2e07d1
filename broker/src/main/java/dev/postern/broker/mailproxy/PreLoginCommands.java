package dev.postern.broker.mailproxy;

import java.io.IOException;

import org.jspecify.annotations.Nullable;

/**
 * What a client may send before it logs in: lines of at most {@code max-line-length}, at most
 * {@code max-pre-auth-commands} of them, within {@code pre-auth-timeout} of the greeting. Past a
 * limit the client is told in its protocol's words and the session ends.
 */
final class PreLoginCommands {

    private final MailProxyProperties limits;

    private final String lineTooLong;

    private final String tooManyOrTooLate;

    private final long deadline;

    private int commands;

    /**
     * @param lineTooLong the answer to a line over the limit, before the session ends
     * @param tooManyOrTooLate the answer to a command past the count or the time, before the session ends
     */
    PreLoginCommands(MailProxyProperties limits, String lineTooLong, String tooManyOrTooLate) {
        this.limits = limits;
        this.lineTooLong = lineTooLong;
        this.tooManyOrTooLate = tooManyOrTooLate;
        this.deadline = System.nanoTime() + limits.preAuthTimeout().toNanos();
    }

    /** The client's next command line; null when the session ends (closed by the client, or a limit passed). */
    @Nullable String next(MailLine client) throws IOException {
        String line;
        try {
            line = client.readLine(limits.maxLineLength());
        }
        catch (MailLine.TooLongException ex) {
            client.writeLine(lineTooLong);
            return null;
        }
        if (line == null) {
            return null;
        }
        if (++commands > limits.maxPreAuthCommands() || System.nanoTime() > deadline) {
            client.writeLine(tooManyOrTooLate);
            return null;
        }
        return line;
    }
}
