package dev.tlsautopsy.track;

import dev.tlsautopsy.classify.Verdict;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * What has been seen of one connection. Flags are written by the hooks; the verdict is set once,
 * under the evidence's monitor, by the first decisive event.
 */
final class Evidence {

    private static final AtomicIntegerFieldUpdater<Evidence> CALLS =
            AtomicIntegerFieldUpdater.newUpdater(Evidence.class, "activeCalls");

    final long id;
    final String api;
    final String implementation;
    final long startNanos = System.nanoTime();

    volatile int activeCalls;
    volatile boolean started;

    String role = "";
    String peerHost = "";
    int peerPort = -1;
    int localPort = -1;
    String protocol = "";
    String cipherSuite = "";

    volatile boolean handshakeCompleted;
    volatile boolean closeNotifySent;
    volatile boolean closeNotifyReceived;
    volatile boolean closeNotifyQueued;
    volatile boolean localClosing;
    volatile boolean readTimedOut;
    /** The timeout the application saw, shown in the record if its close makes it decisive. */
    volatile String timeoutSeen;
    volatile int partialRecordBytes;
    long bytesIn;
    long bytesOut;

    String pendingFatalAlert;

    Verdict verdict;
    /** When the decisive event happened (not when its hook reported it). */
    long endNanos;
    /** When the alert being written now started to be written. */
    long alertEncodingAt;
    String appSaw;
    String exception;
    boolean emitted;

    /** Netty: the channel (held weakly), and what its hooks saw before channelInactive. */
    java.lang.ref.WeakReference<Object> nettyChannel;
    volatile boolean nettyPeerEof;
    volatile boolean nettyClosedBelow;
    /** The Netty channel's close has begun: what SslHandler flushed by now is all that went out. */
    volatile boolean nettyChannelClosing;
    /** The first failure of the JDK channel under a Netty channel, before any local close. */
    volatile Throwable transportFailure;

    /** Record framing of the bytes an engine that is not the JDK's consumed: where a cut would land. */
    int headerBytesSeen;
    int headerLength;
    int bodyBytesLeft;

    /** The JFR event begun at the connection's start, when the event was enabled then. */
    Object jfrEvent;

    Evidence(long id, String api, String implementation) {
        this.id = id;
        this.api = api;
        this.implementation = implementation;
    }

    /** A Netty channel's connection: its ending is decided by the channel's events, not the engine's. */
    boolean netty() {
        return "Netty".equals(api);
    }

    void enterCall() {
        CALLS.incrementAndGet(this);
    }

    void exitCall() {
        CALLS.decrementAndGet(this);
    }
}
