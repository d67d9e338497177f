package dev.tlsautopsy.demo.conn;

import java.io.IOException;

/** One side of a TLS connection as an application drives it, over SSLSocket or SSLEngine. */
public interface TlsConn {

    void handshake() throws IOException;

    void write(byte[] data) throws IOException;

    /** Reads up to {@code buf.length} bytes; -1 when the TLS connection ended. */
    int read(byte[] buf) throws IOException;

    /** A read timeout in milliseconds, 0 for none. */
    void setReadTimeout(int millis) throws IOException;

    /** The application's orderly close: close_notify, then the transport. */
    void close() throws IOException;

    /** Closes the transport below TLS directly, without close_notify. */
    void closeTransport() throws IOException;
}
