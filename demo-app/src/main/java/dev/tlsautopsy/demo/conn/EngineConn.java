package dev.tlsautopsy.demo.conn;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * A TLS connection over an SSLEngine and a blocking SocketChannel, written the way a careful NIO
 * application writes it: on the channel's EOF it calls {@code closeInbound()} (which throws without
 * close_notify), on a channel failure it closes the engine before rethrowing, and after an unwrap
 * error it flushes the engine's alert before giving up.
 */
public final class EngineConn implements TlsConn {

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final ByteBuffer netIn;
    private final ByteBuffer netOut;
    private final ByteBuffer appIn;
    private int readTimeout;

    private EngineConn(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet * 2);
        this.netOut = ByteBuffer.allocate(packet * 2);
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() * 2);
        appIn.flip();
    }

    public static EngineConn client(SSLContext ctx, SocketChannel channel, int peerPort, String protocol) {
        SSLEngine e = ctx.createSSLEngine("localhost", peerPort);
        e.setEnabledProtocols(new String[] {protocol});
        e.setUseClientMode(true);
        return new EngineConn(channel, e);
    }

    public static EngineConn server(SSLContext ctx, SocketChannel channel, String protocol) throws IOException {
        java.net.InetSocketAddress peer = (java.net.InetSocketAddress) channel.getRemoteAddress();
        SSLEngine e = ctx.createSSLEngine(peer.getHostString(), peer.getPort());
        e.setEnabledProtocols(new String[] {protocol});
        e.setUseClientMode(false);
        return new EngineConn(channel, e);
    }

    public SSLEngine engine() {
        return engine;
    }

    @Override
    public void handshake() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP:
                    wrapAndSend(ByteBuffer.allocate(0));
                    break;
                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN:
                    unwrapOnce();
                    break;
                case NEED_TASK:
                    Runnable task;
                    while ((task = engine.getDelegatedTask()) != null) {
                        task.run();
                    }
                    break;
                default:
                    return;
            }
        }
    }

    private void wrapAndSend(ByteBuffer app) throws IOException {
        netOut.clear();
        SSLEngineResult r = engine.wrap(app, netOut);
        netOut.flip();
        send();
        if (r.getStatus() == SSLEngineResult.Status.CLOSED && app.hasRemaining()) {
            throw new SSLException("engine closed");
        }
        if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && app.hasRemaining()) {
            // e.g. a write after a handshake that never finished: the engine wants to unwrap first
            throw new SSLException("engine cannot send: " + r.getStatus() + "/" + r.getHandshakeStatus());
        }
    }

    private void send() throws IOException {
        try {
            while (netOut.hasRemaining()) {
                channel.write(netOut);
            }
        } catch (IOException e) {
            abortEngine();
            throw e;
        }
    }

    /** One unwrap step; reads from the channel when the engine needs more bytes. */
    private SSLEngineResult unwrapOnce() throws IOException {
        while (true) {
            netIn.flip();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn.compact());
            } catch (SSLException e) {
                netIn.compact();
                appIn.flip();
                flushAlert();
                throw e;
            }
            netIn.compact();
            appIn.flip();
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                fill();
                continue;
            }
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
                Runnable task;
                while ((task = engine.getDelegatedTask()) != null) {
                    task.run();
                }
            }
            return r;
        }
    }

    private void fill() throws IOException {
        int n;
        try {
            if (readTimeout > 0) {
                InputStream in = channel.socket().getInputStream();
                byte[] b = new byte[netIn.remaining()];
                n = in.read(b);
                if (n > 0) {
                    netIn.put(b, 0, n);
                }
            } else {
                n = channel.read(netIn);
            }
        } catch (java.net.SocketTimeoutException e) {
            throw e;   // not fatal: the application decides what a timeout means
        } catch (IOException e) {
            abortEngine();
            throw e;
        }
        if (n < 0) {
            // the transport ended: without close_notify this throws, and that is the truncation signal
            engine.closeInbound();
            throw new EOFException("channel closed");
        }
    }

    private void flushAlert() {
        try {
            wrapAndSend(ByteBuffer.allocate(0));
        } catch (IOException ignored) {
            // the peer may be gone already
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void abortEngine() {
        try {
            engine.closeInbound();
        } catch (SSLException ignored) {
            // expected without close_notify
        }
        engine.closeOutbound();
    }

    @Override
    public void write(byte[] data) throws IOException {
        ByteBuffer app = ByteBuffer.wrap(data);
        while (app.hasRemaining()) {
            wrapAndSend(app);
        }
    }

    @Override
    public int read(byte[] buf) throws IOException {
        while (!appIn.hasRemaining()) {
            if (engine.isInboundDone()) {
                return -1;
            }
            SSLEngineResult r = unwrapOnce();
            if (r.getStatus() == SSLEngineResult.Status.CLOSED && !appIn.hasRemaining()) {
                return -1;
            }
            if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && !appIn.hasRemaining()) {
                // a handshake left unfinished (a timeout) wants to send before it can read again
                if (r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                    throw new SSLException("engine cannot read: " + r.getStatus() + "/" + r.getHandshakeStatus());
                }
                wrapAndSend(ByteBuffer.allocate(0));
            }
        }
        int n = Math.min(buf.length, appIn.remaining());
        appIn.get(buf, 0, n);
        return n;
    }

    @Override
    public void setReadTimeout(int millis) throws IOException {
        readTimeout = millis;
        channel.socket().setSoTimeout(millis);
    }

    @Override
    public void close() throws IOException {
        engine.closeOutbound();
        try {
            while (!engine.isOutboundDone()) {
                wrapAndSend(ByteBuffer.allocate(0));
            }
        } catch (IOException ignored) {
            // the peer may be gone
        } finally {
            channel.close();
        }
    }

    @Override
    public void closeTransport() throws IOException {
        channel.close();
    }
}
