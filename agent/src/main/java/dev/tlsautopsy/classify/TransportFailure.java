package dev.tlsautopsy.classify;

import java.io.EOFException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;

/**
 * What an I/O exception from the transport below TLS means. Exception types decide where they can;
 * messages are consulted only for {@link java.net.SocketException}, whose subclasses the JDK does not
 * use for these cases ("Connection reset", "Connection reset by peer", "Broken pipe", "Socket closed").
 */
public enum TransportFailure {
    /** The peer reset the connection (RST) or it broke under a write. */
    RESET,
    /** This side closed the transport below TLS. */
    LOCALLY_CLOSED,
    /** A read, write or connect timed out. */
    TIMED_OUT,
    /** The transport ended (EOF). */
    EOF,
    /** Not a transport failure this agent knows. */
    OTHER;

    public static TransportFailure of(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            TransportFailure f = direct(t);
            if (f != OTHER) {
                return f;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return OTHER;
    }

    private static TransportFailure direct(Throwable t) {
        if (t instanceof SocketTimeoutException) {
            return TIMED_OUT;
        }
        if (t instanceof InterruptedIOException) {
            return OTHER;
        }
        if (t instanceof EOFException) {
            return EOF;
        }
        if (t instanceof AsynchronousCloseException || t instanceof ClosedChannelException) {
            return LOCALLY_CLOSED;
        }
        if (t instanceof java.io.IOException) {
            String m = t.getMessage();
            if (m == null) {
                return OTHER;
            }
            if (m.contains("Connection reset") || m.contains("reset by peer") || m.contains("Broken pipe")) {
                return RESET;
            }
            if (t instanceof java.net.SocketException
                    && (m.equals("Socket closed") || m.equals("Socket is closed") || m.equals("Closed by interrupt"))) {
                return LOCALLY_CLOSED;
            }
            if (m.contains("timed out")) {
                return TIMED_OUT;
            }
        }
        return OTHER;
    }
}
