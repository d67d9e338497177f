package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLSocket;

/**
 * The JDK's SSLSocket on the other side of a library, misbehaving on purpose: a server that answers one
 * HTTP request and then ends TCP without close_notify (FIN) or resets it, and a client that does the same
 * to a library's server. Each layers TLS over a plain socket it keeps, so it can end the transport below TLS.
 */
final class Raw {

    enum End {
        /** TCP ends without close_notify (the process was killed). */
        FIN,
        /** TCP is reset. */
        RST,
        /** close_notify, then TCP ends (a clean close). */
        CLOSE_NOTIFY,
        /** The client keeps reading until the server ends the connection. */
        AWAIT_SERVER,
        /** Half a record (its header and part of its body) goes out below TLS, then TCP ends. */
        PARTIAL_RECORD,
        /** A whole record of garbage goes out below TLS (it cannot decrypt), then the client reads the answer. */
        GARBAGE_RECORD
    }

    private Raw() {
    }

    /** A server that answers each request line block with a keep-alive "OK" and then ends the transport. */
    static final class Server implements Servers.Running {
        private final ServerSocket listener;
        private final ExecutorService pool = Executors.newCachedThreadPool();

        Server(TlsContexts tls, End end) throws IOException {
            listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            pool.submit(() -> {
                while (!listener.isClosed()) {
                    Socket plain = listener.accept();
                    pool.submit(() -> {
                        serve(tls, plain, end);
                        return null;
                    });
                }
                return null;
            });
        }

        @Override
        public int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
            pool.shutdownNow();
        }
    }

    private static void serve(TlsContexts tls, Socket plain, End end) throws IOException {
        SSLSocket s = (SSLSocket) tls.server.getSocketFactory().createSocket(plain, null, plain.getPort(), false);
        s.setUseClientMode(false);
        readRequest(s.getInputStream());
        OutputStream out = s.getOutputStream();
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        endBelowTls(plain, end);
        closeQuietly(s);
    }

    /** Closes the TLS socket too (its close_notify cannot go out any more), as an application does. */
    private static void closeQuietly(SSLSocket s) {
        try {
            s.close();
        } catch (IOException expected) {
            // the transport below is closed
        }
    }

    /** A client that sends one request, reads the answer and ends the connection as {@code end} says. */
    static String client(TlsContexts tls, int port, End end) throws IOException {
        return client(tls.client, port, end);
    }

    /** The same with this client context (one that does not trust the server makes the handshake fail). */
    static String client(javax.net.ssl.SSLContext tls, int port, End end) throws IOException {
        Socket plain = new Socket(InetAddress.getLoopbackAddress(), port);
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, "localhost", port, false);
        try {
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String answer = readResponse(s.getInputStream());
            switch (end) {
                case CLOSE_NOTIFY:
                    s.close();
                    plain.close();
                    return answer;
                case AWAIT_SERVER:
                    s.setSoTimeout(10_000);
                    answer += " then read: " + s.getInputStream().read();
                    s.close();
                    plain.close();
                    return answer;
                case PARTIAL_RECORD:
                    // an application_data record header announcing 100 bytes, and 10 of them
                    plain.getOutputStream().write(record(100, 10));
                    plain.getOutputStream().flush();
                    endBelowTls(plain, End.FIN);
                    closeQuietly(s);
                    return answer;
                case GARBAGE_RECORD:
                    plain.getOutputStream().write(record(64, 64));
                    plain.getOutputStream().flush();
                    try {
                        answer += " then read: " + s.getInputStream().read();
                    } catch (IOException e) {
                        answer += " then: " + e;
                    }
                    closeQuietly(s);
                    plain.close();
                    return answer;
                default:
                    endBelowTls(plain, end);
                    closeQuietly(s);
                    return answer;
            }
        } catch (IOException e) {
            closeQuietly(s);
            plain.close();
            throw e;
        }
    }

    /** An application_data record's header announcing {@code length} bytes, and the first {@code sent} of them. */
    private static byte[] record(int length, int sent) {
        byte[] r = new byte[5 + sent];
        r[0] = 23;
        r[1] = 3;
        r[2] = 3;
        r[3] = (byte) (length >> 8);
        r[4] = (byte) length;
        for (int i = 5; i < r.length; i++) {
            r[i] = (byte) (i * 31 + 7);
        }
        return r;
    }

    private static void endBelowTls(Socket plain, End end) throws IOException {
        if (end == End.RST) {
            plain.setSoLinger(true, 0);
        }
        plain.close();
    }

    private static void readRequest(InputStream in) throws IOException {
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("request ended early");
            }
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
    }

    /** Reads a response with a Content-Length body; returns its status line and body. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("response ended early: " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        return head.substring(0, head.indexOf("\r\n")) + " " + new String(body, StandardCharsets.US_ASCII);
    }
}
