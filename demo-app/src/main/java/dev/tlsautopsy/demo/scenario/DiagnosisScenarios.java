package dev.tlsautopsy.demo.scenario;

import dev.tlsautopsy.demo.proxy.IdleTimeoutProxy;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Scenarios whose records add up to a diagnosis (SPEC section 5): several SSLSocket connections that end
 * the same way for the same reason, run for real over loopback.
 * <ul>
 * <li>{@code idle-timeout}: three clients go idle behind a proxy that, like a load balancer, ends
 * connections idle for {@value #IDLE_MILLIS} ms: {@code IDLE_TIMEOUT} with that time.</li>
 * <li>{@code stale-reuse}: three clients keep their connection for later, as a pool does; the server
 * closes each with close_notify after {@value #SERVER_KEEP_ALIVE_MILLIS} ms without a request (a
 * keep-alive timeout), and the clients' next request, {@value #CLIENT_REUSE_MILLIS} ms after the
 * previous one, finds it closed: {@code STALE_REUSE}.</li>
 * </ul>
 */
public final class DiagnosisScenarios {

    public static final long IDLE_MILLIS = 2000;
    public static final long SERVER_KEEP_ALIVE_MILLIS = 300;
    public static final long CLIENT_REUSE_MILLIS = 1500;
    public static final int CONNECTIONS = 3;

    /** A scenario's name, what it does and the diagnosis it should lead to. */
    public record Spec(String name, String title, String kind) {
    }

    /** What a run produced: its records, and the agent's diagnoses afterwards. */
    public record Result(Spec spec, List<Map<String, Object>> records, List<String> diagnoses, String error) {
    }

    public static final List<Spec> ALL = List.of(
            new Spec("idle-timeout", CONNECTIONS + " SSLSocket clients idle behind a proxy that ends connections idle for "
                    + IDLE_MILLIS + " ms", "IDLE_TIMEOUT"),
            new Spec("stale-reuse", CONNECTIONS + " SSLSocket clients reuse a kept connection after "
                    + CLIENT_REUSE_MILLIS + " ms; the server closed it after " + SERVER_KEEP_ALIVE_MILLIS + " ms",
                    "STALE_REUSE"));

    private DiagnosisScenarios() {
    }

    public static Spec spec(String name) {
        for (Spec s : ALL) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** Runs one scenario and waits for its records (each side of each connection). */
    public static Result run(Spec spec, Records records, TlsContexts tls) throws Exception {
        int from = records.count();
        String error = "";
        int[] ports = new int[2];
        try {
            if (spec.name().equals("idle-timeout")) {
                idleTimeout(tls, ports);
            } else {
                staleReuse(tls, ports);
            }
        } catch (Exception e) {
            error = e.toString();
        }
        // this scenario's records: clients that connected to ports[1], servers that listened on ports[0]
        // (a late record of an earlier scenario may arrive meanwhile)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Map<String, Object>> mine = new ArrayList<>();
        while (true) {
            mine.clear();
            for (Map<String, Object> r : records.since(from)) {
                boolean client = "CLIENT".equals(r.get("role"));
                Object port = r.get(client ? "peerPort" : "localPort");
                if (port instanceof Number && ((Number) port).intValue() == ports[client ? 1 : 0]) {
                    mine.add(r);
                }
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (mine.size() >= 2 * CONNECTIONS || left <= 0) {
                break;
            }
            records.awaitCount(records.count() + 1, Math.min(left, 100));
        }
        return new Result(spec, List.copyOf(mine), records.diagnoses(), error);
    }

    /** {@code ports}: set to the server's port and the port the clients connect to. */
    private static void idleTimeout(TlsContexts tls, int[] ports) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SSLServerSocket server = listen(tls);
             IdleTimeoutProxy proxy = new IdleTimeoutProxy(server.getLocalPort(), IDLE_MILLIS, false)) {
            ports[0] = server.getLocalPort();
            ports[1] = proxy.port();
            List<Future<?>> sides = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                SSLSocket accepted = connectAndAccept(tls, server, proxy.port(), pool, sides, c -> {
                    // one request and its answer, then a long poll: the reader waits for what never comes
                    exchange(c);
                    while (c.getInputStream().read() >= 0) {
                        // nothing is sent; the proxy ends the connection
                    }
                    c.close();
                });
                sides.add(pool.submit(() -> {
                    echoUntilEnd(accepted, 0);
                    return null;
                }));
            }
            for (Future<?> f : sides) {
                f.get(IDLE_MILLIS + 10_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void staleReuse(TlsContexts tls, int[] ports) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SSLServerSocket server = listen(tls)) {
            ports[0] = server.getLocalPort();
            ports[1] = server.getLocalPort();
            List<Future<?>> sides = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                SSLSocket accepted = connectAndAccept(tls, server, server.getLocalPort(), pool, sides, c -> {
                    exchange(c);
                    // back in the pool; taken out again later for the next request
                    Thread.sleep(CLIENT_REUSE_MILLIS);
                    OutputStream out = c.getOutputStream();
                    out.write("GET\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    int n = c.getInputStream().read();
                    if (n >= 0) {
                        throw new IOException("the server answered on a connection it should have closed");
                    }
                    c.close();
                });
                sides.add(pool.submit(() -> {
                    echoUntilEnd(accepted, SERVER_KEEP_ALIVE_MILLIS);
                    return null;
                }));
            }
            for (Future<?> f : sides) {
                f.get(CLIENT_REUSE_MILLIS + 10_000, TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    interface Client {
        void run(SSLSocket c) throws Exception;
    }

    private static SSLServerSocket listen(TlsContexts tls) throws IOException {
        return (SSLServerSocket) tls.server.getServerSocketFactory().createServerSocket(0, 50,
                InetAddress.getLoopbackAddress());
    }

    /** Starts a client on {@code port} (its side joins {@code sides}) and returns the server's accepted socket. */
    private static SSLSocket connectAndAccept(TlsContexts tls, SSLServerSocket server, int port, ExecutorService pool,
                                              List<Future<?>> sides, Client client) throws IOException {
        sides.add(pool.submit(() -> {
            try (SSLSocket c = (SSLSocket) tls.client.getSocketFactory().createSocket("localhost", port)) {
                c.startHandshake();
                client.run(c);
            }
            return null;
        }));
        SSLSocket accepted = (SSLSocket) server.accept();
        accepted.setSoTimeout(30_000);
        return accepted;
    }

    /** Writes a request line and reads the one-line answer. */
    private static void exchange(SSLSocket c) throws IOException {
        OutputStream out = c.getOutputStream();
        out.write("GET\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = c.getInputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            // the answer's bytes
        }
    }

    /**
     * Answers each request line with "OK"; with {@code keepAliveMillis} > 0, closes the connection (with
     * close_notify) once no request came for that long, as an HTTP server's keep-alive timeout does.
     * Otherwise reads until the transport ends.
     */
    private static void echoUntilEnd(SSLSocket s, long keepAliveMillis) throws IOException {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            if (keepAliveMillis > 0) {
                s.setSoTimeout((int) keepAliveMillis);
            }
            int b;
            while (true) {
                try {
                    b = in.read();
                } catch (SocketTimeoutException idle) {
                    return;
                }
                if (b < 0) {
                    return;
                }
                if (b == '\n') {
                    out.write("OK\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
        } catch (IOException ended) {
            // the proxy ended the connection: what the record is about
        }
    }
}
