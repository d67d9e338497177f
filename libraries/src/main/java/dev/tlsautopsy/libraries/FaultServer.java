package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLSocket;

/**
 * An HTTPS server of the JDK's SSLSocket that fails each connection the same way, for a library's client
 * to meet: it ends TCP without close_notify after its answer or in the middle of it, resets it in the
 * middle, or (through a proxy in front) has its answer's record cut in the middle or a bit flipped in it.
 * Any number of connections (a client that retries meets the same fault). The answer's body is one
 * record of {@value #BODY} bytes: the proxy recognises it by its size.
 */
final class FaultServer implements Servers.Running {

    enum Plan {
        /** Answers and then closes with close_notify when the client's request line stops coming. */
        ANSWER,
        /** Answers, then ends TCP without close_notify (a peer killed while the connection idles). */
        FIN_AFTER_ANSWER,
        /** Sends the headers, then ends TCP without close_notify at a record boundary (killed mid-answer). */
        FIN_MID_ANSWER,
        /** Sends the headers, then resets the connection. */
        RST_MID_ANSWER,
        /** Answers; the proxy in front cuts the body's record in its middle and ends both sides. */
        CUT_MID_RECORD,
        /** Answers; the proxy in front flips a bit in the body's record. */
        FLIP_BIT
    }

    static final int BODY = 8000;
    /** Server records at least this long are the body's (handshake records from this server are shorter). */
    static final int BIG_RECORD = 6000;

    private final TlsContexts tls;
    private final Plan plan;
    private final ServerSocket listener;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Proxy proxy;

    FaultServer(TlsContexts tls, Plan plan) throws IOException {
        this.tls = tls;
        this.plan = plan;
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        pool.submit(() -> {
            while (!listener.isClosed()) {
                Socket plain = listener.accept();
                open.add(plain);
                pool.submit(() -> {
                    serve(plain);
                    return null;
                });
            }
            return null;
        });
        proxy = plan == Plan.CUT_MID_RECORD || plan == Plan.FLIP_BIT ? new Proxy(listener.getLocalPort(), plan) : null;
    }

    /** The port a client connects to (the proxy's, when there is one). */
    @Override
    public int port() {
        return proxy != null ? proxy.port() : listener.getLocalPort();
    }

    /** The server's own port (its records' local port). */
    int serverPort() {
        return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        if (proxy != null) {
            proxy.close();
        }
        for (Socket s : open) {
            s.close();
        }
        pool.shutdownNow();
    }

    private void serve(Socket plain) throws IOException {
        SSLSocket s = (SSLSocket) tls.server.getSocketFactory().createSocket(plain, null, plain.getPort(), true);
        s.setUseClientMode(false);
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        try {
            while (readRequest(in)) {
                String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + BODY + "\r\n\r\n";
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.flush();
                switch (plan) {
                    case FIN_MID_ANSWER:
                        plain.close();
                        return;
                    case RST_MID_ANSWER:
                        plain.setSoLinger(true, 0);
                        plain.close();
                        return;
                    default:
                        break;
                }
                byte[] body = new byte[BODY];
                java.util.Arrays.fill(body, (byte) 'x');
                out.write(body);
                out.flush();
                if (plan == Plan.FIN_AFTER_ANSWER) {
                    plain.close();
                    return;
                }
            }
        } catch (IOException ended) {
            // the client or the proxy ended it
        } finally {
            try {
                s.close();
            } catch (IOException alreadyClosed) {
                // the transport below is gone
            }
        }
    }

    /** Reads one request's head; false at the end of the stream. */
    private static boolean readRequest(InputStream in) throws IOException {
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        return true;
    }

    /**
     * A TCP proxy for any number of connections that forwards the server's records whole and hurts the first
     * big one of each connection: cuts it in the middle of its body (then ends both sides) or flips a bit in it.
     */
    static final class Proxy implements AutoCloseable {
        private final ServerSocket listener;
        private final int target;
        private final Plan plan;
        private final ExecutorService pool = Executors.newCachedThreadPool();
        private final List<Socket> open = new CopyOnWriteArrayList<>();

        Proxy(int target, Plan plan) throws IOException {
            this.target = target;
            this.plan = plan;
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            pool.submit(() -> {
                while (!listener.isClosed()) {
                    Socket down = listener.accept();
                    Socket up = new Socket(InetAddress.getLoopbackAddress(), target);
                    down.setTcpNoDelay(true);
                    up.setTcpNoDelay(true);
                    open.add(down);
                    open.add(up);
                    pool.submit(() -> pump(down, up));
                    pool.submit(() -> records(up, down));
                }
                return null;
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        private Void pump(Socket from, Socket to) {
            byte[] buf = new byte[8192];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
                to.shutdownOutput();
            } catch (IOException ended) {
                // closed by the other direction's cut
            }
            return null;
        }

        private Void records(Socket up, Socket down) {
            boolean hurt = false;
            try {
                DataInputStream in = new DataInputStream(up.getInputStream());
                OutputStream out = down.getOutputStream();
                byte[] header = new byte[5];
                while (true) {
                    try {
                        in.readFully(header);
                    } catch (IOException eof) {
                        down.shutdownOutput();
                        return null;
                    }
                    int length = ((header[3] & 0xFF) << 8) | (header[4] & 0xFF);
                    byte[] body = in.readNBytes(length);
                    if (!hurt && length >= BIG_RECORD) {
                        hurt = true;
                        if (plan == Plan.CUT_MID_RECORD) {
                            out.write(header);
                            out.write(body, 0, length / 2);
                            out.flush();
                            down.shutdownOutput();
                            up.shutdownOutput();
                            return null;
                        }
                        body[length - 1] ^= 0x01;
                    }
                    out.write(header);
                    out.write(body);
                    out.flush();
                }
            } catch (IOException ended) {
                return null;
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : open) {
                s.close();
            }
            pool.shutdownNow();
        }
    }
}
