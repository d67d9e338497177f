package dev.tlsautopsy.demo.proxy;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;

/**
 * A TCP proxy for one connection that damages one direction of a real TLS stream in one seeded way:
 * a flipped bit anywhere (headers and handshake included), the stream cut after some bytes, garbage
 * instead of TLS from some offset on, a record sent twice, or two records swapped. The other
 * direction passes untouched. Streams are followed record by record (5-byte headers).
 */
public final class FuzzProxy implements Closeable {

    public enum Kind { FLIP, TRUNCATE, GARBAGE, DUPLICATE, REORDER }

    public final Kind kind;
    public final boolean towardsClient;
    public final int offset;
    private final Random random;
    private final ServerSocket listener;
    private final int targetPort;
    private volatile Socket down;
    private volatile Socket up;
    private volatile int upstreamLocalPort;
    private volatile boolean applied;

    public FuzzProxy(int targetPort, Kind kind, boolean towardsClient, int offset, long seed) throws IOException {
        this.targetPort = targetPort;
        this.kind = kind;
        this.towardsClient = towardsClient;
        this.offset = offset;
        this.random = new Random(seed);
        this.listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "fuzz-proxy");
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** The proxy's own port towards the server: the server's record names it as its peer port. */
    public int upstreamLocalPort() {
        return upstreamLocalPort;
    }

    public boolean applied() {
        return applied;
    }

    @Override
    public String toString() {
        return kind + (towardsClient ? " towards the client" : " towards the server") + " at " + offset
                + (applied ? "" : " (not reached)");
    }

    private void accept() {
        try {
            down = listener.accept();
            up = new Socket(InetAddress.getLoopbackAddress(), targetPort);
            upstreamLocalPort = up.getLocalPort();
            down.setTcpNoDelay(true);
            up.setTcpNoDelay(true);
            Thread c2s = new Thread(() -> pump(down, up, !towardsClient), "fuzz-proxy-c2s");
            c2s.setDaemon(true);
            c2s.start();
            pump(up, down, towardsClient);
        } catch (IOException e) {
            // closing
        }
    }

    /** Forwards {@code from} to {@code to} record by record, damaging it when {@code damaged}. */
    private void pump(Socket from, Socket to, boolean damaged) {
        try {
            DataInputStream in = new DataInputStream(from.getInputStream());
            OutputStream out = to.getOutputStream();
            long position = 0;
            int index = 0;
            byte[] held = null;
            while (true) {
                byte[] record = readRecord(in);
                if (record == null) {
                    break;
                }
                if (!damaged) {
                    out.write(record);
                    continue;
                }
                long end = position + record.length;
                switch (kind) {
                    case FLIP:
                        if (offset >= position && offset < end) {
                            record[(int) (offset - position)] ^= (byte) (1 << random.nextInt(8));
                            applied = true;
                        }
                        out.write(record);
                        break;
                    case TRUNCATE:
                        if (offset < end) {
                            out.write(record, 0, (int) Math.max(0, offset - position));
                            out.flush();
                            applied = true;
                            close();
                            return;
                        }
                        out.write(record);
                        break;
                    case GARBAGE:
                        if (offset < end && !applied) {
                            int keep = (int) Math.max(0, offset - position);
                            out.write(record, 0, keep);
                            byte[] junk = new byte[record.length - keep];
                            random.nextBytes(junk);
                            out.write(junk);
                            applied = true;
                        } else {
                            out.write(record);
                        }
                        break;
                    case DUPLICATE:
                        out.write(record);
                        if (index == offset) {
                            out.write(record);
                            applied = true;
                        }
                        break;
                    case REORDER:
                        if (index == offset) {
                            held = record;
                        } else {
                            out.write(record);
                            if (held != null) {
                                out.write(held);
                                held = null;
                                applied = true;
                            }
                        }
                        break;
                    default:
                        out.write(record);
                }
                out.flush();
                position = end;
                index++;
            }
            if (held != null) {
                out.write(held);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            close();
        }
    }

    /** One whole TLS record, or whatever is left before the end of the stream; null at the end. */
    private static byte[] readRecord(DataInputStream in) throws IOException {
        byte[] header = new byte[5];
        int got = 0;
        while (got < 5) {
            int n = in.read(header, got, 5 - got);
            if (n < 0) {
                return got == 0 ? null : java.util.Arrays.copyOf(header, got);
            }
            got += n;
        }
        int length = ((header[3] & 0xFF) << 8) | (header[4] & 0xFF);
        byte[] record = java.util.Arrays.copyOf(header, 5 + length);
        try {
            in.readFully(record, 5, length);
        } catch (EOFException e) {
            return java.util.Arrays.copyOf(header, 5);
        }
        return record;
    }

    @Override
    public void close() {
        for (Closeable c : new Closeable[] {listener, down, up}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (IOException ignored) {
                // closing everything anyway
            }
        }
    }
}
