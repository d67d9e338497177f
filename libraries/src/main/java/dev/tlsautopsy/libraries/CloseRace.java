package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.conn.EngineConn;
import dev.tlsautopsy.demo.conn.NettyConn;
import dev.tlsautopsy.demo.conn.SocketConn;
import dev.tlsautopsy.demo.conn.TlsConn;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * The close race (JDK-8277970, the seed's second case): a reader is mid-stream, data still arriving, when
 * another thread closes the connection. Whatever the reader then meets (-1, "Tag mismatch" after the close
 * disposed the read cipher, a closed channel) is noise after a local close: every client record is
 * {@code CLEAN}, {@code LOCAL}. {@value #CONNECTIONS} connections per API.
 */
final class CloseRace {

    static final int CONNECTIONS = 50;
    private static final String PROTOCOL = "TLSv1.3";

    private CloseRace() {
    }

    static List<Case> all() {
        return List.of(
                new Case("close-race-sslsocket", "JDK SSLSocket", CONNECTIONS + " SSLSocket clients closed while reading a stream",
                        2 * CONNECTIONS, r -> race(r, "SSLSocket")),
                new Case("close-race-sslengine", "JDK SSLEngine", CONNECTIONS + " SSLEngine clients closed while reading a stream",
                        2 * CONNECTIONS, r -> race(r, "SSLEngine")),
                new Case("close-race-netty", "Netty (NIO)", CONNECTIONS + " Netty clients closed while reading a stream",
                        2 * CONNECTIONS, r -> race(r, "Netty")));
    }

    private static void race(Case.Run r, String api) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        int raced = 0;
        try (SSLServerSocket server = (SSLServerSocket) r.tls.server.getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = r.port(server.getLocalPort());
            pool.submit(() -> stream(server, pool));
            for (int i = 0; i < CONNECTIONS; i++) {
                TlsConn c = connect(r, api, port);
                c.handshake();
                CountDownLatch midStream = new CountDownLatch(1);
                CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
                    byte[] buf = new byte[4096];
                    long total = 0;
                    try {
                        int n;
                        while ((n = c.read(buf)) >= 0) {
                            total += n;
                            if (total >= 32 * 1024) {
                                midStream.countDown();
                            }
                        }
                        return "-1";
                    } catch (IOException | RuntimeException e) {
                        return e.getClass().getSimpleName() + ": " + e.getMessage();
                    } finally {
                        midStream.countDown();
                    }
                }, pool);
                if (!midStream.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("no stream to read");
                }
                c.close();
                String seen = reader.get(10, TimeUnit.SECONDS);
                if (!seen.equals("-1")) {
                    raced++;
                    if (raced == 1) {
                        r.saw("the reader after the close: " + seen);
                    }
                }
            }
            r.saw(raced + " of " + CONNECTIONS + " readers failed after the close rather than read -1");
        } finally {
            pool.shutdownNow();
        }
    }

    private static TlsConn connect(Case.Run r, String api, int port) throws Exception {
        switch (api) {
            case "SSLSocket":
                return SocketConn.client(r.tls.client, new Socket(InetAddress.getLoopbackAddress(), port), PROTOCOL);
            case "SSLEngine":
                return EngineConn.client(r.tls.client, SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                        port)), port, PROTOCOL);
            default:
                return NettyConn.client(NettyConn.context(r.tls, false, SslProvider.JDK, PROTOCOL, r.tls.clientTrust), port);
        }
    }

    /** Accepts connections and writes to each until it fails: the stream its reader is in. */
    private static Object stream(SSLServerSocket server, ExecutorService pool) {
        while (!server.isClosed()) {
            try {
                SSLSocket s = (SSLSocket) server.accept();
                pool.submit(() -> {
                    byte[] chunk = new byte[8192];
                    try (s) {
                        OutputStream out = s.getOutputStream();
                        while (true) {
                            out.write(chunk);
                        }
                    } catch (IOException ended) {
                        // the client closed: what the client's record is about
                    }
                    return null;
                });
            } catch (IOException closed) {
                return null;
            }
        }
        return null;
    }
}
