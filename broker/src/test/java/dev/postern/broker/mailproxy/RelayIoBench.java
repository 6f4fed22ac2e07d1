package dev.postern.broker.mailproxy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;

/**
 * Virtual threads with blocking {@code SSLSocket}s (what the proxy does) against Netty 4.2 with the
 * JDK's TLS engine, as the mail proxy's relay after login: each accepts the client's TLS, opens a
 * verified TLS connection to a mail server and copies bytes both ways. The far ends (clients and a
 * TLS sink as the mail server) are Python processes ({@code mailproxy/relay_io_far_ends.py}), so only
 * the relay is in this JVM. Not a test: a measurement, run by {@code scripts/bench-mailproxy-io}.
 *
 * <pre>
 * RelayIoBench idle vt|netty N     heap after GC, direct memory and RSS with none and N idle sessions
 * RelayIoBench throughput MB RUNS  MB uploads: direct to the sink, through vt, through netty, interleaved
 * </pre>
 *
 * The {@code vt} relay is the proxy's own code: {@link Upstreams#open} and {@link Relay} over
 * {@link MailLine}s, the client's TLS accepted as {@link MailProxyServer#serverTls} does.
 */
final class RelayIoBench {

    private RelayIoBench() {
    }

    public static void main(String[] args) throws Exception {
        TestMailCertificate certificate = TestMailCertificate.create();
        Path script = Files.createTempFile("relay_io_far_ends", ".py");
        try (var in = RelayIoBench.class.getResourceAsStream("/mailproxy/relay_io_far_ends.py")) {
            Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Process sink = new ProcessBuilder("/usr/bin/python3", script.toString(), "sink", certificate.certificate.toString(),
                certificate.privateKey.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
        Process clients = new ProcessBuilder("/usr/bin/python3", script.toString(), "clients", certificate.certificate.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
        try {
            int upstreamPort = Integer.parseInt(new BufferedReader(new InputStreamReader(sink.getInputStream(), StandardCharsets.UTF_8))
                .readLine().split(" ")[1]);
            Far far = new Far(clients);
            switch (args[0]) {
                case "idle" -> idle(args[1], Integer.parseInt(args[2]), certificate, upstreamPort, far);
                case "throughput" -> throughput(Integer.parseInt(args[1]), Integer.parseInt(args[2]), certificate, upstreamPort, far);
                default -> throw new IllegalArgumentException("idle or throughput, not " + args[0]);
            }
        }
        finally {
            clients.destroy();
            sink.destroy();
            Files.deleteIfExists(script);
        }
        System.exit(0);
    }

    /** The Python clients: one command, one answer. */
    private record Far(Process process, BufferedReader out, OutputStream in) {

        Far(Process process) {
            this(process, new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)),
                    process.getOutputStream());
        }

        String ask(String command) throws Exception {
            in.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
            in.flush();
            String answer = out.readLine();
            if (answer == null) {
                throw new IllegalStateException("the clients' process ended at: " + command);
            }
            return answer;
        }
    }

    private static void idle(String mode, int count, TestMailCertificate certificate, int upstreamPort, Far far) throws Exception {
        long[] none = memory();
        AutoCloseable relay = start(mode, certificate, upstreamPort);
        int port = ((Ported) relay).port();
        // A few sessions first so classes, thread pools and the allocator's first chunks are not counted as per-session.
        far.ask("idle " + port + " 20");
        far.ask("close");
        Thread.sleep(500);
        long[] warm = memory();
        long started = System.nanoTime();
        String ready = far.ask("idle " + port + " " + count);
        long opened = (System.nanoTime() - started) / 1_000_000;
        Thread.sleep(2_000);
        long[] held = memory();
        System.out.printf(Locale.ROOT, "%s: %s in %d ms%n", mode, ready, opened);
        System.out.printf(Locale.ROOT, "%s: before the relay: heap %.1f MB, direct %.1f MB, RSS %.1f MB%n", mode, none[0] / 1e6,
                none[1] / 1e6, none[2] / 1e6);
        System.out.printf(Locale.ROOT, "%s: relay warm, no session: heap %.1f MB, direct %.1f MB, RSS %.1f MB%n", mode,
                warm[0] / 1e6, warm[1] / 1e6, warm[2] / 1e6);
        System.out.printf(Locale.ROOT, "%s: %d idle sessions: heap %.1f MB, direct %.1f MB, RSS %.1f MB%n", mode, count,
                held[0] / 1e6, held[1] / 1e6, held[2] / 1e6);
        System.out.printf(Locale.ROOT,
                "RESULT idle %s sessions=%d heap_mb=%.1f direct_mb=%.1f rss_mb=%.1f heap_kb_per_session=%.1f heap_plus_direct_kb_per_session=%.1f rss_kb_per_session=%.1f%n",
                mode, count, (held[0] - warm[0]) / 1e6, (held[1] - warm[1]) / 1e6, (held[2] - warm[2]) / 1e6,
                (held[0] - warm[0]) / 1e3 / count, (held[0] + held[1] - warm[0] - warm[1]) / 1e3 / count,
                (held[2] - warm[2]) / 1e3 / count);
        far.ask("close");
        relay.close();
    }

    private static void throughput(int megabytes, int runs, TestMailCertificate certificate, int upstreamPort, Far far) throws Exception {
        AutoCloseable vt = start("vt", certificate, upstreamPort);
        AutoCloseable netty = start("netty", certificate, upstreamPort);
        String[] names = {"direct", "vt", "netty"};
        int[] ports = {upstreamPort, ((Ported) vt).port(), ((Ported) netty).port()};
        List<List<Double>> seconds = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        // One warm-up upload each (JIT, TLS), not counted.
        for (int port : ports) {
            far.ask("upload " + port + " " + megabytes);
        }
        for (int run = 0; run < runs; run++) {
            for (int i = 0; i < names.length; i++) {
                seconds.get(i).add(Double.parseDouble(far.ask("upload " + ports[i] + " " + megabytes).split(" ")[1]));
            }
        }
        double direct = median(seconds.get(0));
        double directBest = seconds.get(0).stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        for (int i = 0; i < names.length; i++) {
            double median = median(seconds.get(i));
            double best = seconds.get(i).stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            System.out.printf(Locale.ROOT, "RESULT throughput %s mb=%d runs=%d median_s=%.3f best_s=%.3f mb_per_s=%.1f ratio_median=%.2f ratio_best=%.2f%n",
                    names[i], megabytes, runs, median, best, megabytes / median, direct / median, directBest / best);
        }
        vt.close();
        netty.close();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Heap used after GC, direct buffers in use (JDK's and Netty's pool), resident memory; bytes. */
    private static long[] memory() throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(300);
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct += pool.getMemoryUsed();
            }
        }
        // Netty allocates its pooled direct memory without a java.nio.DirectByteBuffer per chunk when it can.
        direct += io.netty.util.internal.PlatformDependent.usedDirectMemory() > 0
                ? io.netty.util.internal.PlatformDependent.usedDirectMemory() : 0;
        Matcher rss = Pattern.compile("VmRSS:\\s+(\\d+) kB").matcher(Files.readString(Path.of("/proc/self/status")));
        return new long[] {heap, direct, rss.find() ? Long.parseLong(rss.group(1)) * 1024 : -1};
    }

    private interface Ported extends AutoCloseable {

        int port();
    }

    private static AutoCloseable start(String mode, TestMailCertificate certificate, int upstreamPort) throws Exception {
        return switch (mode) {
            case "vt" -> virtualThreads(certificate, upstreamPort);
            case "netty" -> netty(certificate, upstreamPort);
            default -> throw new IllegalArgumentException("vt or netty, not " + mode);
        };
    }

    /** The proxy's relay: a virtual thread per connection and one more for the second direction. */
    private static Ported virtualThreads(TestMailCertificate certificate, int upstreamPort) throws Exception {
        SSLContext serverTls = certificate.serverContext();
        Upstreams upstreams = new Upstreams(certificate.clientContext(), null, Duration.ofSeconds(60));
        Upstreams.Endpoint endpoint = new Upstreams.Endpoint("localhost", upstreamPort, Upstreams.Security.IMPLICIT_TLS);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ServerSocket listener = new ServerSocket(0, 2048, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!listener.isClosed()) {
                Socket socket;
                try {
                    socket = listener.accept();
                }
                catch (Exception ex) {
                    return;
                }
                Thread.ofVirtual().start(() -> {
                    try {
                        socket.setTcpNoDelay(true);
                        SSLSocket client = (SSLSocket) serverTls.getSocketFactory()
                            .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                        client.setUseClientMode(false);
                        client.startHandshake();
                        MailLine upstream = upstreams.open(endpoint);
                        new Relay(Duration.ofMinutes(31), meters.counter("up"), meters.counter("down"))
                            .run(new MailLine(client), upstream);
                    }
                    catch (Exception ex) {
                        System.err.println("vt session failed: " + ex);
                    }
                });
            }
        });
        return new Ported() {
            @Override
            public int port() {
                return listener.getLocalPort();
            }

            @Override
            public void close() throws Exception {
                listener.close();
            }
        };
    }

    /**
     * The same relay in Netty 4.2: NIO event loops (one per CPU), {@link SslHandler} with the JDK's
     * {@link SSLEngine} on both sides, the upstream's host name checked; reads are asked for one at a
     * time and the next only once the write to the other side is done (back-pressure as in Netty's
     * proxy example), Netty 4.2's default buffer allocator.
     */
    private static Ported netty(TestMailCertificate certificate, int upstreamPort) throws Exception {
        SSLContext serverTls = certificate.serverContext();
        SSLContext clientTls = certificate.clientContext();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
        ServerBootstrap server = new ServerBootstrap().group(group)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 2048)
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel channel) {
                    SSLEngine engine = serverTls.createSSLEngine();
                    engine.setUseClientMode(false);
                    channel.pipeline().addLast(new SslHandler(engine), new Frontend(clientTls, upstreamPort));
                }
            });
        Channel bound = server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        return new Ported() {
            @Override
            public int port() {
                return ((InetSocketAddress) bound.localAddress()).getPort();
            }

            @Override
            public void close() throws Exception {
                bound.close().sync();
                group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
            }
        };
    }

    private static final class Frontend extends ChannelInboundHandlerAdapter {

        private final SSLContext clientTls;

        private final int upstreamPort;

        private Channel upstream;

        private final List<Object> early = new ArrayList<>();

        Frontend(SSLContext clientTls, int upstreamPort) {
            this.clientTls = clientTls;
            this.upstreamPort = upstreamPort;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel client = ctx.channel();
            // The client's handshake needs reads (auto-read is off); the upstream connection is opened once it is done.
            ctx.read();
            ctx.pipeline().get(SslHandler.class).handshakeFuture().addListener(handshake -> {
                if (!handshake.isSuccess()) {
                    client.close();
                    return;
                }
                SSLEngine engine = clientTls.createSSLEngine("localhost", upstreamPort);
                engine.setUseClientMode(true);
                SSLParameters parameters = engine.getSSLParameters();
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                engine.setSSLParameters(parameters);
                SslHandler tls = new SslHandler(engine);
                Bootstrap bootstrap = new Bootstrap().group(client.eventLoop())
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            channel.pipeline().addLast(tls, new Backend(client));
                        }
                    });
                bootstrap.connect("127.0.0.1", upstreamPort).addListener((ChannelFutureListener) connected -> {
                    if (!connected.isSuccess()) {
                        client.close();
                        return;
                    }
                    Channel opened = connected.channel();
                    opened.read();
                    tls.handshakeFuture().addListener(upstreamHandshake -> {
                        if (!upstreamHandshake.isSuccess()) {
                            client.close();
                            return;
                        }
                        upstream = opened;
                        // What the client sent with its handshake (TLS 1.3 lets data follow Finished at once).
                        for (Object message : early) {
                            upstream.write(message);
                        }
                        early.clear();
                        upstream.flush();
                        client.read();
                    });
                });
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            if (upstream == null) {
                early.add(message);
                return;
            }
            if (!upstream.isActive()) {
                release(message);
                ctx.close();
                return;
            }
            forward(ctx, upstream, message);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (upstream != null) {
                closeAfterFlush(upstream);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeAfterFlush(ctx.channel());
        }
    }

    /**
     * Writes {@code message} to {@code to} and asks {@code from} for the next one once it is written
     * (back-pressure); closes both on a failed write.
     */
    private static void forward(ChannelHandlerContext from, Channel to, Object message) {
        to.writeAndFlush(message).addListener((ChannelFutureListener) written -> {
            if (written.isSuccess()) {
                from.channel().read();
            }
            else {
                written.channel().close();
                from.close();
            }
        });
    }

    private static final class Backend extends ChannelInboundHandlerAdapter {

        private final Channel client;

        Backend(Channel client) {
            this.client = client;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            forward(ctx, client, message);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closeAfterFlush(client);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            closeAfterFlush(ctx.channel());
        }
    }

    private static void release(Object message) {
        if (message instanceof ByteBuf buffer) {
            buffer.release();
        }
    }

    private static void closeAfterFlush(Channel channel) {
        if (channel.isActive()) {
            channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
