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
    /** What the application holds; an engine first seen alone may turn out to be a Netty handler's (attach). */
    public volatile String api;
    public final String implementation;
    /** The stack that describes this connection and may hold its record back. */
    volatile Owner owner;
    /**
     * First seen after its handshake, when the agent was attached to a running JVM: its start, its bytes
     * before the attach and its duration are unknown (-1 in the record).
     */
    public volatile boolean adopted;
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
     * When application data last moved (either direction), or the handshake ended if none has: 0 until the
     * handshake completed, and for a connection first seen after an attach until data moves.
     */
    long lastDataNanos;
    /**
     * When the kernel first showed the peer acting (bytes or its FIN arriving) while nobody read the
     * connection, 0 if not: the ending the application finds later happened then.
     */
    volatile long peerSignalNanos;
    /**
     * That signal was the peer's FIN with no byte unread before it: the peer ended the connection without
     * close_notify (nothing the application reads later can change that).
     */
    public volatile boolean peerBareFin;
    /** {@link #lastDataNanos} when that signal came (data sent afterwards does not make it less idle). */
    volatile long lastDataBeforeSignal;
    /** Watched by {@link PeerActivityWatch} while it idles. */
    volatile boolean watchedIdle;
    /** When the application first noticed the ending (a call returned, or it was shown it), 0 until then. */
    long noticedNanos;
    /** How long no data had moved when the decisive event came, -1 when unknown. */
    long idleNanos = -1;

    /**
     * A layer above the engine (Netty's SslHandler) owns the transport: the engine's own readers leave
     * transport events (channel failures, the start of a connection) to it.
     */
    public volatile boolean layered;
    /** The first failure of the transport below this connection, before any local close. */
    public volatile Throwable transportFailure;
    /**
     * An engine whose output was seen going into a {@code SocketChannel} ({@link ChannelLinks}): that channel's
     * EOF, failures and close are this connection's.
     */
    volatile boolean linked;
    /** The linked channel was closed: a close_notify wrapped after that never leaves. */
    public volatile boolean transportClosed;
    /** Wrap outputs offered for linking so far (only a connection's first flights are). */
    byte linkOffers;
    /** When a read on the linked channel returned -1 (the peer's FIN), 0 if none did. */
    volatile long transportEofNanos;

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
    /** Its object's entry has left the connection table (see {@link Tracker#leaveTable}). */
    volatile boolean leftTable;
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

    /** The handshake completed now: idle time counts from here until data moves. */
    public void handshakeDone() {
        if (!handshakeCompleted) {
            handshakeCompleted = true;
            if (lastDataNanos == 0) {
                lastDataNanos = System.nanoTime();
            }
        }
    }

    /**
     * The handshake completed before the agent could see it (attach): how long the connection has been
     * idle is not known until data moves.
     */
    public void handshakeDoneBefore() {
        handshakeCompleted = true;
    }

    /** Application data moved at {@code at} (the data clock's now: never before the handshake's end). */
    void dataMoved(long at) {
        if (at > lastDataNanos) {
            lastDataNanos = at;
        }
    }

    /** Application data arrived at {@code at}: whatever the peer sent while nobody read was data, not an ending. */
    void dataReceived(long at) {
        dataMoved(at);
        if (peerSignalNanos != 0) {
            peerSignalNanos = 0;
            peerBareFin = false;
        }
    }
}
