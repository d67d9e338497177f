package dev.tlsautopsy.demo.conn;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/** A client and a server SSLEngine talking through heap buffers: TLS without sockets, for benchmarks. */
public final class MemoryPair {

    public final SSLEngine client;
    public final SSLEngine server;
    private ByteBuffer toServer;
    private ByteBuffer toClient;
    private ByteBuffer clientApp;
    private ByteBuffer serverApp;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    public MemoryPair(TlsContexts tls, String protocol) {
        client = tls.client.createSSLEngine("localhost", 443);
        client.setUseClientMode(true);
        client.setEnabledProtocols(new String[] {protocol});
        server = tls.server.createSSLEngine();
        server.setUseClientMode(false);
        server.setEnabledProtocols(new String[] {protocol});
        int packet = client.getSession().getPacketBufferSize();
        int app = client.getSession().getApplicationBufferSize();
        toServer = ByteBuffer.allocate(packet * 4);
        toClient = ByteBuffer.allocate(packet * 4);
        clientApp = ByteBuffer.allocate(app * 2);
        serverApp = ByteBuffer.allocate(app * 2);
    }

    public void handshake() throws SSLException {
        client.beginHandshake();
        server.beginHandshake();
        for (int i = 0; i < 100; i++) {
            boolean progressed = step(client, toServer, toClient, clientApp) | step(server, toClient, toServer, serverApp);
            if (done(client) && done(server) && toServer.position() == 0 && toClient.position() == 0) {
                return;
            }
            if (!progressed && i > 10) {
                break;
            }
        }
        throw new SSLException("handshake did not finish: " + client.getHandshakeStatus() + "/" + server.getHandshakeStatus());
    }

    private static boolean done(SSLEngine e) {
        SSLEngineResult.HandshakeStatus s = e.getHandshakeStatus();
        return s == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING || s == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    /** One round for one engine: run tasks, unwrap what arrived, wrap what it wants to send. */
    private static boolean step(SSLEngine e, ByteBuffer out, ByteBuffer in, ByteBuffer app) throws SSLException {
        boolean progressed = false;
        Runnable task;
        while ((task = e.getDelegatedTask()) != null) {
            task.run();
            progressed = true;
        }
        in.flip();
        while (in.hasRemaining()) {
            SSLEngineResult r = e.unwrap(in, app);
            app.clear();
            while ((task = e.getDelegatedTask()) != null) {
                task.run();
            }
            if (r.bytesConsumed() == 0) {
                break;
            }
            progressed = true;
        }
        in.compact();
        while (e.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            SSLEngineResult r = e.wrap(EMPTY, out);
            if (r.bytesProduced() == 0) {
                break;
            }
            progressed = true;
        }
        return progressed;
    }

    /** Drops the buffers (the pair stays open, its engines alive): only the engines are left to weigh. */
    public void releaseBuffers() {
        toServer = null;
        toClient = null;
        clientApp = null;
        serverApp = null;
    }

    /** Sends {@code data} from client to server; returns the plaintext bytes the server got. */
    public long transfer(ByteBuffer data) throws SSLException {
        long got = 0;
        while (data.hasRemaining()) {
            client.wrap(data, toServer);
            toServer.flip();
            while (toServer.hasRemaining()) {
                SSLEngineResult r = server.unwrap(toServer, serverApp);
                got += r.bytesProduced();
                serverApp.clear();
                if (r.getStatus() != SSLEngineResult.Status.OK) {
                    break;
                }
            }
            toServer.compact();
        }
        return got;
    }

    /** The client sends close_notify, the server answers with its own: a clean close on both sides. */
    public void close() throws SSLException {
        sendCloseNotify(client, toServer, server, serverApp);
        sendCloseNotify(server, toClient, client, clientApp);
    }

    private static void sendCloseNotify(SSLEngine from, ByteBuffer wire, SSLEngine to, ByteBuffer app)
            throws SSLException {
        from.closeOutbound();
        while (!from.isOutboundDone()) {
            from.wrap(EMPTY, wire);
        }
        wire.flip();
        to.unwrap(wire, app);
        wire.clear();
    }
}
