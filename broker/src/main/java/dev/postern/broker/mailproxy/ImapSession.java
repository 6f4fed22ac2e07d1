package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.tokens.IssuedToken;

/**
 * One IMAP client before login (RFC 9051 / 3501): {@code CAPABILITY}, {@code NOOP}, {@code ID},
 * {@code STARTTLS}, {@code LOGIN}, {@code AUTHENTICATE PLAIN} (with and without SASL-IR),
 * {@code LOGOUT}; after a login the upstream accepted, the relay.
 */
final class ImapSession {

    private static final Pattern LITERAL = Pattern.compile("\\{(\\d{1,9})(\\+?)\\}$");

    private static final int UPSTREAM_LINE_LIMIT = 64 * 1024;

    private final MailProxyServer server;

    private final Socket socket;

    private final boolean implicitTls;

    private MailLine client;

    private boolean tls;

    ImapSession(MailProxyServer server, Socket socket, boolean implicitTls) throws IOException {
        this.server = server;
        this.socket = socket;
        this.implicitTls = implicitTls;
        this.client = new MailLine(socket);
    }

    void run() throws IOException, InterruptedException {
        if (implicitTls) {
            client = new MailLine(server.serverTls(socket, "imap"));
            tls = true;
        }
        client.writeLine("* OK [CAPABILITY " + capabilities() + "] Postern IMAP proxy ready");
        PreLoginCommands commands = new PreLoginCommands(server.properties(), "* BYE Command line too long",
                "* BYE Too many commands or too long without logging in");
        while (true) {
            String line = commands.next(client);
            if (line == null) {
                return;
            }
            String[] parts = line.split(" ", 3);
            if (parts.length < 2 || parts[0].isEmpty() || !parts[0].chars().allMatch(ImapSession::isTagChar)) {
                client.writeLine("* BAD Invalid tag or command");
                continue;
            }
            String tag = parts[0];
            String rest = parts.length > 2 ? parts[2] : "";
            switch (parts[1].toUpperCase(Locale.ROOT)) {
                case "CAPABILITY" -> {
                    client.writeLine("* CAPABILITY " + capabilities());
                    client.writeLine(tag + " OK CAPABILITY completed");
                }
                case "NOOP" -> client.writeLine(tag + " OK NOOP completed");
                case "ID" -> {
                    client.writeLine("* ID (\"name\" \"Postern\")");
                    client.writeLine(tag + " OK ID completed");
                }
                case "LOGOUT" -> {
                    client.writeLine("* BYE Postern IMAP proxy logging out");
                    client.writeLine(tag + " OK LOGOUT completed");
                    return;
                }
                case "STARTTLS" -> {
                    if (tls) {
                        client.writeLine(tag + " BAD TLS is already active");
                        continue;
                    }
                    client.writeLine(tag + " OK Begin TLS negotiation now");
                    // Anything the client sent behind STARTTLS in plaintext is dropped with the old reader (RFC 9051 11.1).
                    client = new MailLine(server.serverTls(socket, "imap"));
                    tls = true;
                }
                case "LOGIN" -> {
                    if (!server.loginAllowed(tls, socket)) {
                        client.writeLine(tag + " NO [PRIVACYREQUIRED] LOGINDISABLED: use STARTTLS first");
                        continue;
                    }
                    List<String> arguments = arguments(rest, 2);
                    if (arguments == null) {
                        client.writeLine(tag + " BAD LOGIN takes a user name and a password");
                        continue;
                    }
                    if (login(tag, arguments.get(0), arguments.get(1))) {
                        return;
                    }
                }
                case "AUTHENTICATE" -> {
                    if (authenticate(tag, rest)) {
                        return;
                    }
                }
                default -> client.writeLine(tag + " BAD Log in first (LOGIN or AUTHENTICATE PLAIN)");
            }
        }
    }

    private String capabilities() {
        StringBuilder capabilities = new StringBuilder("IMAP4rev1 SASL-IR ID");
        if (!tls) {
            capabilities.append(" STARTTLS");
        }
        if (server.loginAllowed(tls, socket)) {
            capabilities.append(" AUTH=PLAIN");
        }
        else {
            capabilities.append(" LOGINDISABLED");
        }
        return capabilities.toString();
    }

    private boolean authenticate(String tag, String rest) throws IOException, InterruptedException {
        String[] words = rest.split(" ", 2);
        if (!words[0].equalsIgnoreCase("PLAIN")) {
            client.writeLine(tag + " NO Unsupported authentication mechanism (PLAIN is)");
            return false;
        }
        if (!server.loginAllowed(tls, socket)) {
            client.writeLine(tag + " NO [PRIVACYREQUIRED] Use STARTTLS first");
            return false;
        }
        String response;
        if (words.length > 1) {
            response = words[1];
        }
        else {
            client.writeLine("+ ");
            response = client.readLine(server.properties().maxLineLength());
            if (response == null) {
                return true;
            }
        }
        if (response.equals("*")) {
            client.writeLine(tag + " BAD Authentication cancelled");
            return false;
        }
        String[] plain = SaslPlain.decode(response.equals("=") ? "" : response);
        if (plain == null) {
            client.writeLine(tag + " BAD Invalid SASL PLAIN response");
            return false;
        }
        return login(tag, plain[0], plain[1]);
    }

    /**
     * Checks the credentials, logs in upstream and, when that worked, answers the client and relays.
     * Whether the session is over.
     */
    private boolean login(String tag, String user, String password) throws IOException, InterruptedException {
        MailLogins.Login login;
        long checking = System.nanoTime();
        try {
            login = server.logins().authenticate("imap", user, password, socket.getInetAddress());
            server.timeLoginStep("imap", "credentials", checking);
        }
        catch (MailLogins.LoginFailure ex) {
            client.writeLine(tag + " NO [" + (ex.credentials() ? "AUTHENTICATIONFAILED" : "UNAVAILABLE") + "] "
                    + ex.getMessage());
            return false;
        }
        MailSessions.Admission admission = server.sessions().open(login, checking);
        if (admission.lease() == null) {
            server.logins().refusedByLimit(login);
            client.writeLine(tag + " NO [LIMIT] " + server.sessions().message(admission.refusal()));
            return false;
        }
        // The place is given back when the relay ends or the upstream login fails.
        try (MailSessions.Lease lease = admission.lease()) {
            MailLine upstream = null;
            try {
                Upstreams.Endpoint endpoint = server.upstreams().imap(login.account());
                long opening = System.nanoTime();
                upstream = server.upstreams().connect(endpoint);
                server.timeLoginStep("imap", "upstream_open", opening);
                long loggingIn = System.nanoTime();
                String greeting = upstream.readLine(UPSTREAM_LINE_LIMIT);
                if (greeting == null || !greeting.startsWith("* OK")) {
                    throw new MailLogins.LoginFailure(false, "upstream_protocol_error", "The mail server did not greet as an IMAP server should ("
                            + Replies.plain(greeting) + ").");
                }
                if (endpoint.security() == Upstreams.Security.STARTTLS) {
                    upstream.writeLine("s STARTTLS");
                    String answer = tagged(upstream, "s");
                    if (!answer.startsWith("s OK")) {
                        throw new IOException("the mail server refused STARTTLS: " + Replies.plain(answer));
                    }
                    upstream = server.upstreams().startTls(upstream, endpoint);
                }
                String refused = null;
                String accepted = null;
                for (int attempt = 0; attempt < 2 && accepted == null; attempt++) {
                    long fetching = System.nanoTime();
                    IssuedToken token = server.logins().token(login, attempt > 0);
                    server.timeLoginStep("imap", "token", fetching);
                    String upstreamTag = "p" + attempt;
                    upstream.writeLine(upstreamTag + " AUTHENTICATE XOAUTH2 " + token.xoauth2());
                    while (true) {
                        String answer = upstream.readLine(UPSTREAM_LINE_LIMIT);
                        if (answer == null) {
                            throw new IOException("the mail server closed the connection during login");
                        }
                        if (answer.startsWith("+")) {
                            // XOAUTH2's error challenge: answered with an empty line, then the server says NO.
                            upstream.writeLine("");
                        }
                        else if (answer.startsWith(upstreamTag + " OK")) {
                            accepted = answer.substring(upstreamTag.length() + 1);
                            break;
                        }
                        else if (answer.startsWith(upstreamTag + " ")) {
                            refused = answer.substring(upstreamTag.length() + 1);
                            break;
                        }
                    }
                }
                if (accepted == null) {
                    server.logins().fail(login, "upstream_refused_token");
                    client.writeLine(tag + " NO [UNAVAILABLE] The mail server refused the mailbox's token even after a refresh: "
                            + Replies.plain(refused));
                    upstream.close();
                    return false;
                }
                server.timeLoginStep("imap", "upstream_login", loggingIn);
                server.logins().succeeded(login);
                // The upstream's own OK, often with its CAPABILITY after login, under the client's tag.
                client.writeLine(tag + " " + accepted);
                server.upstreams().prepareNext(endpoint);
                server.relay(socket, lease, client, upstream);
                return true;
            }
            catch (MailLogins.LoginFailure ex) {
                if (upstream != null) {
                    upstream.close();
                }
                server.logins().fail(login, ex.reason());
                client.writeLine(tag + " NO [UNAVAILABLE] " + ex.getMessage());
                return false;
            }
            catch (IOException ex) {
                if (upstream != null) {
                    upstream.close();
                }
                server.logins().fail(login, "upstream_unreachable");
                client.writeLine(tag + " NO [UNAVAILABLE] The mail server could not be reached or broke off: "
                        + Replies.plain(ex.getMessage()));
                return false;
            }
        }
    }

    /** The upstream's tagged answer to {@code tag}, skipping untagged lines. */
    private static String tagged(MailLine upstream, String tag) throws IOException {
        while (true) {
            String line = upstream.readLine(UPSTREAM_LINE_LIMIT);
            if (line == null) {
                throw new IOException("the mail server closed the connection");
            }
            if (line.startsWith(tag + " ")) {
                return line;
            }
        }
    }

    /**
     * {@code count} astrings (atom, quoted string or literal, RFC 9051) from {@code rest}, reading
     * literals from the client; {@code null} when they are malformed.
     */
    private @Nullable List<String> arguments(String rest, int count) throws IOException {
        List<String> values = new ArrayList<>();
        String line = rest;
        int i = 0;
        while (values.size() < count) {
            while (i < line.length() && line.charAt(i) == ' ') {
                i++;
            }
            if (i >= line.length()) {
                return null;
            }
            char first = line.charAt(i);
            if (first == '"') {
                StringBuilder value = new StringBuilder();
                i++;
                while (i < line.length() && line.charAt(i) != '"') {
                    char c = line.charAt(i++);
                    if (c == '\\' && i < line.length()) {
                        c = line.charAt(i++);
                    }
                    value.append(c);
                }
                if (i >= line.length()) {
                    return null;
                }
                i++;
                values.add(value.toString());
            }
            else if (first == '{') {
                Matcher literal = LITERAL.matcher(line.substring(i));
                if (!literal.matches()) {
                    return null;
                }
                int length = Integer.parseInt(literal.group(1));
                if (length > server.properties().maxLineLength()) {
                    return null;
                }
                if (literal.group(2).isEmpty()) {
                    client.writeLine("+ Ready for literal data");
                }
                values.add(new String(client.readBytes(length), StandardCharsets.UTF_8));
                String next = client.readLine(server.properties().maxLineLength());
                if (next == null) {
                    return null;
                }
                line = next;
                i = 0;
            }
            else {
                int end = line.indexOf(' ', i);
                end = end < 0 ? line.length() : end;
                values.add(line.substring(i, end));
                i = end;
            }
        }
        return line.substring(i).isBlank() ? values : null;
    }

    private static boolean isTagChar(int c) {
        return c > 0x20 && c < 0x7f && "(){%*\"\\+".indexOf(c) < 0;
    }

    /** SASL PLAIN (RFC 4616) responses. */
    static final class SaslPlain {

        private SaslPlain() {
        }

        /** {@code [user, password]} from a base64 PLAIN response, or {@code null} when malformed. */
        static String @Nullable [] decode(String base64) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(base64);
            }
            catch (IllegalArgumentException ex) {
                return null;
            }
            String[] parts = new String(bytes, StandardCharsets.UTF_8).split("\u0000", -1);
            if (parts.length != 3 || parts[1].isEmpty()) {
                return null;
            }
            // An authorization identity other than the user would be acting as someone else: not offered.
            if (!parts[0].isEmpty() && !parts[0].equalsIgnoreCase(parts[1])) {
                return null;
            }
            return new String[] {parts[1], parts[2]};
        }
    }
}
