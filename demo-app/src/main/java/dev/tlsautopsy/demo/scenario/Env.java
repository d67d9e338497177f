package dev.tlsautopsy.demo.scenario;

import dev.tlsautopsy.demo.conn.EngineConn;
import dev.tlsautopsy.demo.conn.NettyConn;
import dev.tlsautopsy.demo.conn.SocketConn;
import dev.tlsautopsy.demo.conn.TlsConn;
import dev.tlsautopsy.demo.proxy.FaultProxy;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;

/**
 * What a scenario runs in: the API and protocol, the TLS contexts, a listener, and what each side's
 * application saw (its trace), which must be the same with and without the agent.
 */
public final class Env implements AutoCloseable {

    public enum Api {
        SSLSocket, SSLEngine, Netty, NettyOpenSsl,
        /** An SSLEngine pair from BouncyCastle's JSSE provider over SocketChannels. */
        SSLEngineBC;

        /** The APIs the scenarios run on. */
        public static Api[] covered() {
            return new Api[] {SSLSocket, SSLEngine, SSLEngineBC, Netty, NettyOpenSsl};
        }

        public boolean netty() {
            return this == Netty || this == NettyOpenSsl;
        }

        public io.netty.handler.ssl.SslProvider provider() {
            return this == NettyOpenSsl ? io.netty.handler.ssl.SslProvider.OPENSSL : io.netty.handler.ssl.SslProvider.JDK;
        }

        /** Runs over SSLEngine and a SocketChannel. */
        public boolean engine() {
            return this == SSLEngine || this == SSLEngineBC;
        }

        /** The record's api field for connections of this kind. */
        public String recorded() {
            return netty() ? "Netty" : engine() ? "SSLEngine" : name();
        }
    }

    public final Api api;
    public final String protocol;
    public final TlsContexts tls;
    public final List<String> clientTrace = java.util.Collections.synchronizedList(new ArrayList<>());
    public final List<String> serverTrace = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<AutoCloseable> resources = new ArrayList<>();
    public Records records;
    public int recordsBefore;
    private ServerSocket serverSocket;
    private ServerSocketChannel serverChannel;
    private NettyConn.Server nettyServer;
    public int handshakeTimeoutMillis;
    /** Netty clients' SslHandler handshake timeout (0: Netty's default). */
    public int clientHandshakeTimeoutMillis;
    /** False: connections are not kept to be closed with the scenario (the caller closes them; benchmarks). */
    public boolean keepResources = true;
    /** Sets TCP_NODELAY on the JDK sockets (Netty sets it itself): no delayed-ACK pauses in benchmarks. */
    public boolean noDelay;

    public Env(Api api, String protocol, TlsContexts tls) {
        this.api = api;
        this.protocol = protocol;
        this.tls = tls;
    }

    public static int jdk() {
        return Runtime.version().feature();
    }

    public boolean tls13() {
        return "TLSv1.3".equals(protocol);
    }

    /** Starts listening; returns the port. */
    public int listen() throws IOException {
        if (api.netty()) {
            nettyServer = new NettyConn.Server(NettyConn.context(tls, true, api.provider(), protocol, null));
            nettyServer.handshakeTimeoutMillis = handshakeTimeoutMillis;
            resources.add(nettyServer);
            return nettyServer.port();
        }
        if (api == Api.SSLSocket) {
            serverSocket = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
            resources.add(serverSocket);
            return serverSocket.getLocalPort();
        }
        serverChannel = ServerSocketChannel.open();
        serverChannel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 5);
        resources.add(serverChannel);
        return serverChannel.socket().getLocalPort();
    }

    public TlsConn accept() throws IOException {
        return accept(tls.server);
    }

    public TlsConn accept(SSLContext ctx) throws IOException {
        if (api.netty()) {
            NettyConn c = nettyServer.accept();
            if (keepResources) {
                resources.add(c::closeQuietly);
            }
            return c;
        }
        if (api == Api.SSLSocket) {
            Socket s = serverSocket.accept();
            s.setTcpNoDelay(noDelay);
            if (keepResources) {
                resources.add(s);
            }
            return SocketConn.server(ctx, s, protocol);
        }
        SocketChannel c = serverChannel.accept();
        c.socket().setTcpNoDelay(noDelay);
        if (keepResources) {
            resources.add(c);
        }
        return EngineConn.server(provided(ctx), c, protocol);
    }

    public TlsConn connect(int port) throws IOException {
        return connect(port, tls.client);
    }

    public TlsConn connect(int port, SSLContext ctx) throws IOException {
        if (api.netty()) {
            NettyConn c = NettyConn.client(NettyConn.context(tls, false, api.provider(), protocol,
                    ctx == tls.untrustingClient ? tls.otherTrust : tls.clientTrust), port, clientHandshakeTimeoutMillis);
            if (keepResources) {
                resources.add(c::closeQuietly);
            }
            return c;
        }
        if (api == Api.SSLSocket) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
            s.setTcpNoDelay(noDelay);
            if (keepResources) {
                resources.add(s);
            }
            return SocketConn.client(ctx, s, protocol);
        }
        SocketChannel c = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        c.socket().setTcpNoDelay(noDelay);
        if (keepResources) {
            resources.add(c);
        }
        return EngineConn.client(provided(ctx), c, port, protocol);
    }

    /** The JDK context, or its BouncyCastle twin when the scenario runs on BouncyCastle. */
    private SSLContext provided(SSLContext jdk) {
        return api == Api.SSLEngineBC ? tls.bouncyCastle(jdk) : jdk;
    }

    /** A plain TCP client, no TLS. */
    public Socket connectPlain(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        resources.add(s);
        return s;
    }

    /** Closed with the scenario. */
    public <T extends AutoCloseable> T closeLater(T resource) {
        resources.add(resource);
        return resource;
    }

    public FaultProxy proxy(int serverPort) throws IOException {
        FaultProxy p = new FaultProxy(serverPort);
        resources.add(p);
        return p;
    }

    /** Runs the server side on its own thread. */
    public Future<?> server(Callable<?> body) {
        CompletableFuture<Object> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(body.call());
            } catch (Throwable e) {
                serverTrace.add("unexpected " + e);
                f.completeExceptionally(e);
            }
        }, "scenario-server");
        t.setDaemon(true);
        t.start();
        return f;
    }

    public static void join(Future<?> f) throws Exception {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new Exception("server side failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new Exception("server side did not finish in 20 s");
        }
    }

    /** An application step whose exception the application sees: recorded in the trace, not rethrown. */
    public interface Step {
        void run() throws Exception;
    }

    public static boolean attempt(List<String> trace, String what, Step step) {
        try {
            step.run();
            trace.add(what + ": ok");
            return true;
        } catch (Exception e) {
            trace.add(what + ": " + e.getClass().getName() + ": " + e.getMessage());
            return false;
        }
    }

    /** Reads once and records what the application was shown: a byte count, -1, or an exception. */
    public static int read(List<String> trace, TlsConn c) {
        byte[] buf = new byte[64];
        try {
            int n = c.read(buf);
            trace.add("read: " + n);
            return n;
        } catch (Exception e) {
            trace.add("read: " + e.getClass().getName() + ": " + e.getMessage());
            return -2;
        }
    }

    public static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Waits until {@code t} is blocked reading from the network (bounded), so that what follows races nothing. */
    public static void awaitBlockedInRead(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            for (StackTraceElement e : t.getStackTrace()) {
                String c = e.getClassName();
                if ((c.startsWith("sun.nio.ch.") || c.equals("java.net.SocketInputStream"))
                        && (e.getMethodName().startsWith("read") || e.getMethodName().startsWith("park")
                        || e.getMethodName().startsWith("implRead") || e.getMethodName().startsWith("poll"))) {
                    return;
                }
            }
            Thread.sleep(2);
        }
        throw new IllegalStateException(t.getName() + " did not block in a read");
    }

    /**
     * Collects garbage until {@code n} records have arrived since the scenario began (bounded); without
     * the agent, collects once.
     */
    public void collectGarbageUntilRecords(int n) throws InterruptedException {
        if (records == null || !records.agentPresent()) {
            System.gc();
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (records.count() < recordsBefore + n && System.nanoTime() < deadline) {
            System.gc();
            records.awaitCount(recordsBefore + n, 50);
        }
    }

    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // closing everything anyway
            }
        }
    }
}
