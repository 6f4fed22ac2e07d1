package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.tokens.IssuedToken;

/**
 * One SMTP submission client before login (RFC 6409, 4954): {@code EHLO}/{@code HELO},
 * {@code STARTTLS}, {@code AUTH PLAIN}, {@code AUTH LOGIN}, {@code NOOP}, {@code RSET},
 * {@code QUIT}; after a login the upstream accepted, the relay.
 */
final class SmtpSession {

    private static final int UPSTREAM_LINE_LIMIT = 64 * 1024;

    private static final String USERNAME_PROMPT = Base64.getEncoder().encodeToString("Username:".getBytes(StandardCharsets.US_ASCII));

    private static final String PASSWORD_PROMPT = Base64.getEncoder().encodeToString("Password:".getBytes(StandardCharsets.US_ASCII));

    private final MailProxyServer server;

    private final Socket socket;

    private final boolean implicitTls;

    private MailLine client;

    private boolean tls;

    private boolean greeted;

    SmtpSession(MailProxyServer server, Socket socket, boolean implicitTls) throws IOException {
        this.server = server;
        this.socket = socket;
        this.implicitTls = implicitTls;
        this.client = new MailLine(socket);
    }

    void run() throws IOException, InterruptedException {
        if (implicitTls) {
            client = new MailLine(server.serverTls(socket, "smtp"));
            tls = true;
        }
        client.writeLine("220 " + server.hostname() + " ESMTP Postern submission proxy ready");
        PreLoginCommands commands = new PreLoginCommands(server.properties(), "500 5.5.2 Line too long",
                "421 4.7.0 Too many commands or too long without logging in");
        while (true) {
            String line = commands.next(client);
            if (line == null) {
                return;
            }
            String[] parts = line.split(" ", 2);
            String rest = parts.length > 1 ? parts[1].strip() : "";
            switch (parts[0].toUpperCase(Locale.ROOT)) {
                case "EHLO" -> {
                    greeted = true;
                    client.writeLine("250-" + server.hostname());
                    if (!tls) {
                        client.writeLine("250-STARTTLS");
                    }
                    if (server.loginAllowed(tls, socket)) {
                        client.writeLine("250-AUTH PLAIN LOGIN");
                    }
                    client.writeLine("250-8BITMIME");
                    client.writeLine("250 ENHANCEDSTATUSCODES");
                }
                case "HELO" -> {
                    greeted = true;
                    client.writeLine("250 " + server.hostname());
                }
                case "STARTTLS" -> {
                    if (tls) {
                        client.writeLine("503 5.5.1 TLS is already active");
                        continue;
                    }
                    client.writeLine("220 2.0.0 Ready to start TLS");
                    // Anything sent behind STARTTLS in plaintext is dropped, and the client must say EHLO again (RFC 3207).
                    client = new MailLine(server.serverTls(socket, "smtp"));
                    tls = true;
                    greeted = false;
                }
                case "AUTH" -> {
                    if (!server.loginAllowed(tls, socket)) {
                        client.writeLine("530 5.7.0 Must issue a STARTTLS command first");
                    }
                    else if (!greeted) {
                        client.writeLine("503 5.5.1 Send EHLO first");
                    }
                    else if (auth(rest)) {
                        return;
                    }
                }
                case "NOOP", "RSET" -> client.writeLine("250 2.0.0 OK");
                case "QUIT" -> {
                    client.writeLine("221 2.0.0 Bye");
                    return;
                }
                case "MAIL", "RCPT", "DATA", "BDAT", "VRFY", "EXPN" -> client.writeLine("530 5.7.0 Authentication required");
                default -> client.writeLine("502 5.5.2 Command not recognized");
            }
        }
    }

    private boolean auth(String arguments) throws IOException, InterruptedException {
        String[] words = arguments.split(" ", 2);
        String mechanism = words[0].toUpperCase(Locale.ROOT);
        @Nullable String initial = words.length > 1 ? words[1].strip() : null;
        switch (mechanism) {
            case "PLAIN" -> {
                String response = initial != null ? initial : challenge("");
                if (response == null) {
                    return true;
                }
                if (response.equals("*")) {
                    client.writeLine("501 5.7.0 Authentication cancelled");
                    return false;
                }
                String[] plain = ImapSession.SaslPlain.decode(response.equals("=") ? "" : response);
                if (plain == null) {
                    client.writeLine("501 5.5.2 Invalid SASL PLAIN response");
                    return false;
                }
                return login(plain[0], plain[1]);
            }
            case "LOGIN" -> {
                String user = initial != null ? initial : challenge(USERNAME_PROMPT);
                if (user == null) {
                    return true;
                }
                String password = user.equals("*") ? "*" : challenge(PASSWORD_PROMPT);
                if (password == null) {
                    return true;
                }
                if (password.equals("*")) {
                    client.writeLine("501 5.7.0 Authentication cancelled");
                    return false;
                }
                String decodedUser = decode(user);
                String decodedPassword = decode(password);
                if (decodedUser == null || decodedPassword == null) {
                    client.writeLine("501 5.5.2 Invalid base64");
                    return false;
                }
                return login(decodedUser, decodedPassword);
            }
            default -> {
                client.writeLine("504 5.5.4 Unrecognized authentication type (PLAIN and LOGIN are)");
                return false;
            }
        }
    }

    private @Nullable String challenge(String text) throws IOException {
        client.writeLine("334 " + text);
        return client.readLine(server.properties().maxLineLength());
    }

    private static @Nullable String decode(String base64) {
        try {
            return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
        }
        catch (IllegalArgumentException ex) {
            return null;
        }
    }

    /** Whether the session is over. */
    private boolean login(String user, String password) throws IOException, InterruptedException {
        MailLogins.Login login;
        long checking = System.nanoTime();
        try {
            login = server.logins().authenticate("smtp", user, password, socket.getInetAddress());
            server.timeLoginStep("smtp", "credentials", checking);
        }
        catch (MailLogins.LoginFailure ex) {
            client.writeLine(ex.credentials() ? "535 5.7.8 " + ex.getMessage() : "454 4.7.0 " + ex.getMessage());
            return false;
        }
        MailSessions.Admission admission = server.sessions().open(login, checking);
        if (admission.lease() == null) {
            server.logins().refusedByLimit(login);
            client.writeLine("454 4.7.0 " + server.sessions().message(admission.refusal()));
            return false;
        }
        // The place is given back when the relay ends or the upstream login fails.
        try (MailSessions.Lease lease = admission.lease()) {
            MailLine upstream = null;
            try {
                Upstreams.Endpoint endpoint = server.upstreams().smtp(login.account());
                long opening = System.nanoTime();
                upstream = server.upstreams().connect(endpoint);
                server.timeLoginStep("smtp", "upstream_open", opening);
                long loggingIn = System.nanoTime();
                expect(upstream, reply(upstream), "220", "greeting");
                upstream.writeLine("EHLO " + server.hostname());
                expect(upstream, reply(upstream), "250", "EHLO");
                if (endpoint.security() == Upstreams.Security.STARTTLS) {
                    upstream.writeLine("STARTTLS");
                    expect(upstream, reply(upstream), "220", "STARTTLS");
                    upstream = server.upstreams().startTls(upstream, endpoint);
                    upstream.writeLine("EHLO " + server.hostname());
                    expect(upstream, reply(upstream), "250", "EHLO");
                }
                String refused = null;
                boolean accepted = false;
                for (int attempt = 0; attempt < 2 && !accepted; attempt++) {
                    long fetching = System.nanoTime();
                    IssuedToken token = server.logins().token(login, attempt > 0);
                    server.timeLoginStep("smtp", "token", fetching);
                    // Two steps: many servers (Dovecot) refuse an AUTH line as long as a token (docs/nocobase.md).
                    upstream.writeLine("AUTH XOAUTH2");
                    String first = reply(upstream);
                    if (!first.startsWith("334")) {
                        refused = first;
                        break;
                    }
                    upstream.writeLine(token.xoauth2());
                    String answer = reply(upstream);
                    if (answer.startsWith("334")) {
                        // XOAUTH2's error challenge: answered with an empty line, then the server says 535.
                        upstream.writeLine("");
                        answer = reply(upstream);
                    }
                    if (answer.startsWith("235")) {
                        accepted = true;
                    }
                    else {
                        refused = answer;
                    }
                }
                if (!accepted) {
                    server.logins().fail(login, "upstream_refused_token");
                    client.writeLine("454 4.7.0 The mail server refused the mailbox's token even after a refresh: "
                            + Replies.plain(refused));
                    upstream.close();
                    return false;
                }
                server.timeLoginStep("smtp", "upstream_login", loggingIn);
                server.logins().succeeded(login);
                client.writeLine("235 2.7.0 Authentication successful");
                server.upstreams().prepareNext(endpoint);
                server.relay(socket, lease, client, upstream);
                return true;
            }
            catch (MailLogins.LoginFailure ex) {
                if (upstream != null) {
                    upstream.close();
                }
                server.logins().fail(login, ex.reason());
                client.writeLine("454 4.7.0 " + ex.getMessage());
                return false;
            }
            catch (IOException ex) {
                if (upstream != null) {
                    upstream.close();
                }
                server.logins().fail(login, "upstream_unreachable");
                client.writeLine("454 4.7.0 The mail server could not be reached or broke off: " + Replies.plain(ex.getMessage()));
                return false;
            }
        }
    }

    /** A whole reply (the last line of a multi-line one, which carries the code and the end). */
    private static String reply(MailLine upstream) throws IOException {
        while (true) {
            String line = upstream.readLine(UPSTREAM_LINE_LIMIT);
            if (line == null) {
                throw new IOException("the mail server closed the connection");
            }
            if (line.length() < 4 || line.charAt(3) != '-') {
                return line;
            }
        }
    }

    private static void expect(MailLine upstream, String reply, String code, String step) throws IOException {
        if (!reply.startsWith(code)) {
            throw new IOException("unexpected answer to " + step + ": " + Replies.plain(reply));
        }
    }
}
