package dev.tlsautopsy.demo.conn;

import java.io.IOException;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A TLS connection over an SSLSocket layered on a plain socket (so the plain socket can be closed below it). */
public final class SocketConn implements TlsConn {

    private final Socket plain;
    private final SSLSocket ssl;

    private SocketConn(Socket plain, SSLSocket ssl) {
        this.plain = plain;
        this.ssl = ssl;
    }

    public static SocketConn client(SSLContext ctx, Socket plain, String protocol) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "localhost", plain.getPort(), true);
        s.setEnabledProtocols(new String[] {protocol});
        s.setUseClientMode(true);
        return new SocketConn(plain, s);
    }

    public static SocketConn server(SSLContext ctx, Socket plain, String protocol) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, null, true);
        s.setEnabledProtocols(new String[] {protocol});
        s.setUseClientMode(false);
        return new SocketConn(plain, s);
    }

    public SSLSocket socket() {
        return ssl;
    }

    @Override
    public void handshake() throws IOException {
        ssl.startHandshake();
    }

    @Override
    public void write(byte[] data) throws IOException {
        ssl.getOutputStream().write(data);
        ssl.getOutputStream().flush();
    }

    @Override
    public int read(byte[] buf) throws IOException {
        return ssl.getInputStream().read(buf);
    }

    @Override
    public void setReadTimeout(int millis) throws IOException {
        ssl.setSoTimeout(millis);
    }

    @Override
    public void close() throws IOException {
        ssl.close();
    }

    @Override
    public void closeTransport() throws IOException {
        plain.close();
    }
}
