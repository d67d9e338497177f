package dev.tlsautopsy.demo.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real TCP proxy on loopback that behaves like a load balancer with an idle timeout: it forwards
 * any number of connections, and ends each one that has carried no bytes either way for the idle
 * time by closing both of its TCP connections (FIN both ways, or RST with {@code reset}). The TLS
 * peers on either side see their transport end without close_notify.
 */
public final class IdleTimeoutProxy implements Closeable {

    private final ServerSocket listener;
    private final int targetPort;
    private final long idleNanos;
    private final boolean reset;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private final Thread reaper;
    private volatile boolean closed;

    private final class Pair {
        final Socket down;
        final Socket up;
        volatile long lastNanos = System.nanoTime();
        volatile boolean ended;

        Pair(Socket down, Socket up) {
            this.down = down;
            this.up = up;
        }

        void end() {
            if (ended) {
                return;
            }
            ended = true;
            for (Socket s : new Socket[] {down, up}) {
                try {
                    if (reset) {
                        s.setSoLinger(true, 0);
                    }
                    s.close();
                } catch (IOException ignored) {
                    // already gone
                }
            }
        }
    }

    /** Forwards to {@code targetPort} on loopback, ending connections idle for {@code idleMillis}. */
    public IdleTimeoutProxy(int targetPort, long idleMillis, boolean reset) throws IOException {
        this.targetPort = targetPort;
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        this.reset = reset;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "idle-proxy-accept");
        t.setDaemon(true);
        t.start();
        reaper = new Thread(this::reap, "idle-proxy-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket down = listener.accept();
                Socket up = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                down.setTcpNoDelay(true);
                up.setTcpNoDelay(true);
                Pair p = new Pair(down, up);
                pairs.add(p);
                start(p, down, up, "idle-proxy-c2s");
                start(p, up, down, "idle-proxy-s2c");
            } catch (IOException e) {
                return;
            }
        }
    }

    private void start(Pair p, Socket from, Socket to, String name) {
        Thread t = new Thread(() -> copy(p, from, to), name);
        t.setDaemon(true);
        t.start();
    }

    private void copy(Pair p, Socket from, Socket to) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (p.ended) {
                    // read while the connection was being ended (a close_notify the peer sent after its FIN):
                    // a load balancer that ended the connection forwards nothing more
                    return;
                }
                p.lastNanos = System.nanoTime();
                out.write(buf, 0, n);
                out.flush();
            }
            if (!p.ended) {
                to.shutdownOutput();
            }
        } catch (IOException ignored) {
            // ended by the reaper, or reset
        }
    }

    /** Checks every 10 ms, so a connection ends within 10 ms after its idle time. */
    private void reap() {
        while (!closed) {
            long now = System.nanoTime();
            for (Pair p : pairs) {
                if (!p.ended && now - p.lastNanos >= idleNanos) {
                    p.end();
                }
                if (p.ended) {
                    pairs.remove(p);
                }
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        reaper.interrupt();
        for (Pair p : pairs) {
            p.end();
        }
    }
}
