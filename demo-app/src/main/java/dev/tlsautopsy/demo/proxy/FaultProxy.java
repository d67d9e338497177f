package dev.tlsautopsy.demo.proxy;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real TCP proxy between one client and one server on loopback that can hurt the connection:
 * cut it at a TLS record boundary, cut it inside the next record from the server (in its header
 * or its body), flip a bit in the next record from the server, or reset it. Records from the
 * server are forwarded whole, so an idle connection always sits at a record boundary.
 */
public final class FaultProxy implements Closeable {

    public enum Fault { CUT_AT_BOUNDARY, CUT_MID_HEADER, CUT_MID_BODY, FLIP_BIT, RESET }

    private final ServerSocket listener;
    private final int targetPort;
    private final Object writeLock = new Object();
    private final CountDownLatch connected = new CountDownLatch(1);
    private volatile Socket down;   // to the client
    private volatile Socket up;     // to the server
    private volatile Thread fromServer;
    private volatile Thread fromClient;
    private volatile Fault armed;
    private volatile boolean cut;

    public FaultProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        try {
            down = listener.accept();
            up = new Socket(InetAddress.getLoopbackAddress(), targetPort);
            down.setTcpNoDelay(true);
            up.setTcpNoDelay(true);
            fromServer = Thread.currentThread();
            Thread c2s = new Thread(() -> copy(down, up), "fault-proxy-c2s");
            c2s.setDaemon(true);
            fromClient = c2s;
            connected.countDown();
            c2s.start();
            forwardRecords();
        } catch (IOException e) {
            // the proxy is closing or the connection was reset on purpose
        } finally {
            connected.countDown();
        }
    }

    private void copy(Socket from, Socket to) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (!cut) {
                    synchronized (writeLock) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
            }
            if (!cut) {
                to.shutdownOutput();
            }
        } catch (IOException ignored) {
            // reset or closed
        }
    }

    private void forwardRecords() throws IOException {
        DataInputStream in = new DataInputStream(up.getInputStream());
        OutputStream out = down.getOutputStream();
        byte[] header = new byte[5];
        while (true) {
            try {
                in.readFully(header);
            } catch (IOException eof) {
                if (!cut) {
                    down.shutdownOutput();
                }
                return;
            }
            int length = ((header[3] & 0xFF) << 8) | (header[4] & 0xFF);
            byte[] body = new byte[length];
            in.readFully(body);
            if (cut) {
                continue;
            }
            synchronized (writeLock) {
                Fault f = armed;
                armed = null;
                if (f == Fault.CUT_MID_HEADER) {
                    out.write(header, 0, 2);
                    out.flush();
                    cutNow();
                } else if (f == Fault.CUT_MID_BODY) {
                    out.write(header);
                    out.write(body, 0, Math.max(1, length / 2));
                    out.flush();
                    cutNow();
                } else {
                    if (f == Fault.FLIP_BIT && length > 0) {
                        body[length - 1] ^= 0x01;
                    }
                    out.write(header);
                    out.write(body);
                    out.flush();
                }
            }
        }
    }

    /**
     * Arms a fault. A cut at a record boundary and a reset happen at once; the others hit the next
     * record the server sends.
     */
    public void arm(Fault fault) throws IOException, InterruptedException {
        if (!connected.await(10, TimeUnit.SECONDS)) {
            throw new IOException("no connection through the proxy");
        }
        synchronized (writeLock) {
            if (fault == Fault.CUT_AT_BOUNDARY) {
                cutNow();
            } else if (fault == Fault.RESET) {
                cut = true;
                reset(down);
                reset(up);
            } else {
                armed = fault;
                return;
            }
        }
        if (fault == Fault.RESET) {
            // a socket closed while another thread reads it is really closed (and the RST sent) only
            // when that reader leaves: wait for both pumps, so the reset has happened when arm returns
            fromClient.join(5000);
            fromServer.join(5000);
        }
    }

    private void cutNow() throws IOException {
        cut = true;
        down.shutdownOutput();
        up.shutdownOutput();
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : new Socket[] {down, up}) {
            if (s != null) {
                s.close();
            }
        }
    }
}
