package dev.tlsautopsy.track;

import dev.tlsautopsy.classify.Verdict;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * What has been seen of one connection, whatever its stack. The stacks write the facts; the
 * {@link Tracker} alone sets the verdict (the first decisive event) and emits the record.
 */
public final class Evidence {

    private static final AtomicIntegerFieldUpdater<Evidence> CALLS =
            AtomicIntegerFieldUpdater.newUpdater(Evidence.class, "activeCalls");

    public final long id;
    public final String api;
    public final String implementation;
    /** The stack that describes this connection and may hold its record back. */
    final Owner owner;
    final long startNanos = System.nanoTime();

    /** Application calls into this connection now under way (their exits emit the record). */
    volatile int activeCalls;
    volatile boolean started;

    public String role = "";
    public String peerHost = "";
    public int peerPort = -1;
    public int localPort = -1;
    public String protocol = "";
    public String cipherSuite = "";

    public volatile boolean handshakeCompleted;
    public volatile boolean closeNotifySent;
    public volatile boolean closeNotifyReceived;
    /** An engine queued close_notify; it counts as sent once a wrap carries it. */
    public volatile boolean closeNotifyQueued;
    /** The application began to close the connection: failures after this are its echo. */
    public volatile boolean localClosing;
    public volatile boolean readTimedOut;
    /** The timeout the application saw, shown in the record if its close makes it decisive. */
    public volatile String timeoutSeen;
    /** Bytes of a record begun and not finished when last seen (a cut there is a short read). */
    public volatile int partialRecordBytes;
    public long bytesIn;
    public long bytesOut;

    /**
     * A layer above the engine (Netty's SslHandler) owns the transport: the engine's own readers leave
     * transport events (channel failures, the start of a connection) to it.
     */
    public volatile boolean layered;
    /** The first failure of the transport below this connection, before any local close. */
    public volatile Throwable transportFailure;

    /** Record framing of the bytes an engine consumed: where a cut would land. */
    public int headerBytesSeen;
    public int headerLength;
    public int bodyBytesLeft;

    /** The owning stack's own per-connection state, if it needs any. */
    public volatile Object stackState;

    Verdict verdict;
    /** When the decisive event happened (not when its hook reported it). */
    long endNanos;
    String appSaw;
    String exception;
    boolean emitted;
    /** What the publisher asked to keep from the start to the ending (a JFR event). */
    Object publisherToken;

    Evidence(long id, Owner owner, String api, String implementation) {
        this.id = id;
        this.owner = owner;
        this.api = api;
        this.implementation = implementation;
    }

    public boolean started() {
        return started;
    }

    public boolean decided() {
        return verdict != null;
    }

    public Verdict verdict() {
        return verdict;
    }

    public boolean emitted() {
        return emitted;
    }

    public void enterCall() {
        CALLS.incrementAndGet(this);
    }

    public void exitCall() {
        CALLS.decrementAndGet(this);
    }

    public int activeCalls() {
        return activeCalls;
    }
}
