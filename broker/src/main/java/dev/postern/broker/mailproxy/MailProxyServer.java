package dev.postern.broker.mailproxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The proxy's listeners: one server socket per configured port, one virtual thread per connection
 * (and a second one for the relay's other direction once logged in). Sessions are closed when the
 * broker stops.
 */
final class MailProxyServer implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(MailProxyServer.class);

    /** The four listeners of the issue; each is on only when its port is set. */
    enum Listener {
        IMAPS, IMAP, SMTPS, SUBMISSION
    }

    private final MailProxyProperties properties;

    private final MailLogins logins;

    private final Upstreams upstreams;

    private volatile SSLContext serverTls;

    private final String hostname;

    private final Map<Listener, ServerSocket> listeners = new EnumMap<>(Listener.class);

    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();

    private final MailSessions sessions;

    /**
     * Closes a connection that has not logged in by {@code pre-auth-timeout}: the socket's read
     * timeout alone is per read, and a client sending a byte now and then would never reach it.
     */
    private final ScheduledThreadPoolExecutor loginDeadlines = loginDeadlines();

    /** The pending deadline of each connection that has not logged in yet. */
    private final Map<Socket, ScheduledFuture<?>> deadlines = new ConcurrentHashMap<>();

    private final Counter toUpstream;

    private final Counter toClient;

    private final Counter refusedConnections;

    private final MeterRegistry meters;

    private volatile boolean running;

    MailProxyServer(MailProxyProperties properties, SSLContext serverTls, MailLogins logins, Upstreams upstreams,
            MeterRegistry meters) {
        this.properties = properties;
        this.serverTls = serverTls;
        this.logins = logins;
        this.upstreams = upstreams;
        this.hostname = localHostname();
        this.meters = meters;
        this.sessions = new MailSessions(properties.maxSessionsPerMailbox(), properties.maxSessions(), logins::closedOnRevoke);
        Gauge.builder("postern_mail_proxy_sessions", sessions, MailSessions::total)
            .description("Logged-in sessions the IMAP and SMTP proxy relays now")
            .register(meters);
        Gauge.builder("postern_mail_proxy_connections", connections, Set::size)
            .description("Connections to the IMAP and SMTP proxy, logged in or not")
            .register(meters);
        FunctionCounter.builder("postern_mail_proxy_upstream_spares", upstreams, Upstreams::sparesOpened)
            .tag("event", "opened")
            .description("Connections to mail servers opened ahead of a login (postern.mail-proxy.upstream-spare-max-age), and those a login used")
            .register(meters);
        FunctionCounter.builder("postern_mail_proxy_upstream_spares", upstreams, Upstreams::sparesUsed)
            .tag("event", "used")
            .description("Connections to mail servers opened ahead of a login (postern.mail-proxy.upstream-spare-max-age), and those a login used")
            .register(meters);
        this.refusedConnections = Counter.builder("postern_mail_proxy_connections_refused_total")
            .description("Connections closed at once because max-pre-login-connections were waiting to log in")
            .register(meters);
        Gauge.builder("postern_mail_proxy_pre_login_connections", this, MailProxyServer::preLoginConnections)
            .description("Connections to the IMAP and SMTP proxy that have not logged in yet")
            .register(meters);
        this.toUpstream = Counter.builder("postern_mail_proxy_bytes_total").tag("direction", "to_upstream")
            .description("Bytes the mail proxy relayed").register(meters);
        this.toClient = Counter.builder("postern_mail_proxy_bytes_total").tag("direction", "to_client")
            .description("Bytes the mail proxy relayed").register(meters);
    }

    /** Takes a reloaded certificate for new connections; sessions already open keep theirs. */
    void serverTls(SSLContext reloaded) {
        this.serverTls = reloaded;
    }

    @Override
    public synchronized void start() {
        open(Listener.IMAPS, properties.imapsPort());
        open(Listener.IMAP, properties.imapPort());
        open(Listener.SMTPS, properties.smtpsPort());
        open(Listener.SUBMISSION, properties.submissionPort());
        running = true;
    }

    private void open(Listener listener, @Nullable Integer port) {
        if (port == null) {
            return;
        }
        try {
            ServerSocket server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName(properties.bindAddress()), port), 128);
            listeners.put(listener, server);
            Thread.ofVirtual().name("mail-proxy-" + listener.name().toLowerCase(java.util.Locale.ROOT)).start(() -> accept(listener, server));
            log.info("Mail proxy {} listening on {}:{}", listener, properties.bindAddress(), server.getLocalPort());
        }
        catch (IOException ex) {
            throw new IllegalStateException("The mail proxy cannot listen on " + properties.bindAddress() + ":" + port
                    + " (" + listener + "): " + ex.getMessage(), ex);
        }
    }

    private void accept(Listener listener, ServerSocket server) {
        while (!server.isClosed()) {
            Socket socket;
            try {
                socket = server.accept();
            }
            catch (IOException ex) {
                if (!server.isClosed()) {
                    log.warn("Mail proxy {} could not accept a connection: {}", listener, ex.getMessage());
                }
                continue;
            }
            // Connections not logged in yet cost a virtual thread, a TLS handshake and buffers each: capped.
            if (preLoginConnections() >= properties.maxPreLoginConnections()) {
                refusedConnections.increment();
                Thread.ofVirtual().name("mail-proxy-refuse").start(() -> refuse(listener, socket));
                continue;
            }
            connections.add(socket);
            Thread.ofVirtual().name("mail-proxy-session").start(() -> serve(listener, socket));
        }
    }

    /** Connections that have not logged in yet (a logged-in one holds a place in {@link #sessions()}). */
    int preLoginConnections() {
        return Math.max(0, connections.size() - sessions.total());
    }

    /**
     * Closes a connection over the pre-login cap: on a plaintext listener with the protocol's
     * "try later" answer first; on an implicit-TLS one at once, spending no TLS handshake on it.
     */
    private void refuse(Listener listener, Socket socket) {
        try (socket) {
            String answer = switch (listener) {
                case IMAP -> "* BYE Too many connections are waiting to log in; try again later\r\n";
                case SUBMISSION -> "421 4.7.0 Too many connections are waiting to log in; try again later\r\n";
                case IMAPS, SMTPS -> null;
            };
            if (answer != null) {
                socket.setSoTimeout(5_000);
                socket.getOutputStream().write(answer.getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
            }
        }
        catch (IOException ex) {
            // It is closed either way.
        }
    }

    private static ScheduledThreadPoolExecutor loginDeadlines() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("mail-proxy-login-deadline").factory());
        executor.setRemoveOnCancelPolicy(true);
        executor.setKeepAliveTime(1, TimeUnit.MINUTES);
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    private void serve(Listener listener, Socket socket) {
        deadlines.put(socket, loginDeadlines.schedule(() -> closeAtLoginDeadline(socket),
                properties.preAuthTimeout().toMillis(), TimeUnit.MILLISECONDS));
        try {
            socket.setSoTimeout((int) Math.min(properties.preAuthTimeout().toMillis(), Integer.MAX_VALUE));
            socket.setTcpNoDelay(true);
            switch (listener) {
                case IMAPS -> new ImapSession(this, socket, true).run();
                case IMAP -> new ImapSession(this, socket, false).run();
                case SMTPS -> new SmtpSession(this, socket, true).run();
                case SUBMISSION -> new SmtpSession(this, socket, false).run();
            }
        }
        catch (IOException ex) {
            // A client that went away, timed out or failed the TLS handshake; no content is logged.
            log.debug("Mail proxy session from {} ended: {}", socket.getInetAddress().getHostAddress(), ex.toString());
        }
        catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        catch (RuntimeException ex) {
            log.warn("Mail proxy session from {} failed", socket.getInetAddress().getHostAddress(), ex);
        }
        finally {
            ScheduledFuture<?> deadline = deadlines.remove(socket);
            if (deadline != null) {
                deadline.cancel(false);
            }
            try {
                socket.close();
            }
            catch (IOException ex) {
                // already closed by the relay
            }
            connections.remove(socket);
        }
    }

    /** The local port of {@code listener}, or -1 when it is off. */
    int port(Listener listener) {
        ServerSocket server = listeners.get(listener);
        return server == null ? -1 : server.getLocalPort();
    }

    /** TLS on an accepted connection, as the server, handshake done. */
    SSLSocket serverTls(Socket socket, String protocol) throws IOException {
        long started = System.nanoTime();
        SSLSocket ssl = (SSLSocket) serverTls.getSocketFactory()
            .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
        ssl.setUseClientMode(false);
        ssl.startHandshake();
        timeLoginStep(protocol, "client_tls", started);
        return ssl;
    }

    /**
     * Records one step of the way to a relayed session since {@code startedNanos}
     * ({@code postern_mail_proxy_login_step_seconds}): {@code client_tls} (the client's TLS handshake
     * with the proxy), {@code credentials} (the password checked), {@code upstream_open} (TCP connect
     * and, for implicit TLS, the TLS handshake with the mail server), {@code token} (the mailbox's
     * token, a cache hit when warm) and {@code upstream_login} (from the open connection to the
     * server's answer to XOAUTH2: greeting, STARTTLS, the login exchange; the token included).
     */
    void timeLoginStep(String protocol, String step, long startedNanos) {
        Timer.builder("postern_mail_proxy_login_step")
            .description("Time of one step of a mail proxy login: client_tls, credentials, upstream_open, token, upstream_login")
            .tag("protocol", protocol)
            .tag("step", step)
            .publishPercentileHistogram()
            .register(meters)
            .record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }

    /** Credentials are taken over TLS only, or in plaintext from loopback when the test setting allows it. */
    boolean loginAllowed(boolean tls, Socket socket) {
        return tls || (properties.plaintextLoginOnLoopback() && socket.getInetAddress().isLoopbackAddress());
    }

    private void closeAtLoginDeadline(Socket socket) {
        if (deadlines.remove(socket) != null) {
            log.debug("Mail proxy connection from {} did not log in within {}: closed",
                    socket.getInetAddress().getHostAddress(), properties.preAuthTimeout());
            try {
                socket.close();
            }
            catch (IOException ex) {
                // closed either way
            }
        }
    }

    /**
     * Relays a logged-in session until it ends, or until {@code lease} is revoked. {@code connection}
     * is the accepted socket: from here on the login deadline no longer applies to it.
     */
    void relay(Socket connection, MailSessions.Lease lease, MailLine client, MailLine upstream)
            throws InterruptedException {
        // When the deadline passed during the upstream login, the connection is closed and the relay ends at once.
        ScheduledFuture<?> deadline = deadlines.remove(connection);
        if (deadline != null) {
            deadline.cancel(false);
        }
        Relay relay = new Relay(properties.idleTimeout(), toUpstream, toClient);
        lease.relayedBy(relay);
        relay.run(client, upstream);
    }

    MailProxyProperties properties() {
        return properties;
    }

    MailLogins logins() {
        return logins;
    }

    Upstreams upstreams() {
        return upstreams;
    }

    String hostname() {
        return hostname;
    }

    /** The logged-in sessions, per mailbox and in total. */
    MailSessions sessions() {
        return sessions;
    }

    @Override
    public synchronized void stop() {
        running = false;
        upstreams.closeSpares();
        for (ServerSocket server : listeners.values()) {
            try {
                server.close();
            }
            catch (IOException ex) {
                log.debug("Closing a mail proxy listener: {}", ex.toString());
            }
        }
        listeners.clear();
        for (Socket socket : connections) {
            try {
                socket.close();
            }
            catch (IOException ex) {
                // the session ends either way
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private static String localHostname() {
        try {
            String name = InetAddress.getLocalHost().getCanonicalHostName();
            return name.matches("[A-Za-z0-9.-]+") ? name : "postern";
        }
        catch (IOException ex) {
            return "postern";
        }
    }
}
