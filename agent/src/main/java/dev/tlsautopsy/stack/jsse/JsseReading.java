package dev.tlsautopsy.stack.jsse;

import dev.tlsautopsy.classify.AlertNames;
import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.ExceptionText;
import dev.tlsautopsy.classify.TransportFailure;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Tracker;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/** What the JDK's TLS hooks mean for a connection's evidence. */
final class JsseReading {

    /** Hand-over between hooks that run inside one another on the same thread. */
    private static final class ThreadState {
        /** The transport whose alert is being written (inside warning() or fatal()). */
        Object alertScope;
        /** When the alert being written now started to be written. */
        long alertEncodingAt;
        /** 0 none, 1 an EOF at a record boundary, 2 inside a record. */
        int recordEof;
        /** The alert the JDK meant to send in the fatal() under way, when no alert decided it. */
        String pendingFatalAlert;
    }

    private final Tracker tracker;
    private final JsseStack owner;
    private final JsseAccess jsse;
    private final ThreadLocal<ThreadState> threads = new ThreadLocal<>() {
        @Override
        protected ThreadState initialValue() {
            return new ThreadState();
        }
    };

    JsseReading(Tracker tracker, JsseStack owner, JsseAccess jsse) {
        this.tracker = tracker;
        this.owner = owner;
        this.jsse = jsse;
        // the JDK's engines, sockets and channels remember their connection where the weaver gave them the field
        tracker.remembering(new Tracker.Memory() {
            @Override
            public Object recall(Object key) {
                return JsseAccess.recall(key);
            }

            @Override
            public boolean keep(Object key, Evidence ev) {
                return JsseAccess.keep(key, ev);
            }
        });
    }

    private Evidence evidence(Object transport, boolean born) {
        return tracker.track(transport, owner, JsseStack.api(transport), born);
    }

    /** Starts the connection; one first seen mid-connection (after an attach) may have finished its handshake. */
    private void start(Evidence ev, Object transport) {
        if (ev.started()) {
            return;
        }
        tracker.start(ev, transport);
        if (transport instanceof SSLSocket) {
            // a blocking socket learns of the peer's end only when read: the kernel tells it earlier
            tracker.watchWhileIdle(ev);
        }
        if (transport != null) {
            JsseAccess.State s = jsse.state(transport);
            if (s != null && s.negotiated) {
                ev.handshakeDoneBefore();
                recordSession(ev, s.session);
            }
        }
    }

    private static void recordSession(Evidence ev, Object session) {
        if (session instanceof SSLSession) {
            SSLSession s = (SSLSession) session;
            ev.protocol = s.getProtocol();
            ev.cipherSuite = s.getCipherSuite();
        }
    }

    // ---------------------------------------------------------------- handshake, alerts, fatal errors

    void handshakeStarting(Object transport) {
        Evidence ev = evidence(transport, true);
        if (ev != null) {
            start(ev, transport);
        } else if (transport != null) {
            tracker.refused();
        }
    }

    void handshakeFinished(Object transport, Object session) {
        Evidence ev = evidence(transport, false);
        if (ev == null) {
            return;
        }
        start(ev, transport);
        ev.handshakeDone();
        recordSession(ev, session);
    }

    Object enterAlertScope(Object transport) {
        ThreadState ts = threads.get();
        Object previous = ts.alertScope;
        ts.alertScope = transport;
        return previous;
    }

    void exitAlertScope(Object previous) {
        threads.get().alertScope = previous;
    }

    /** An alert is about to be written (its record is open); returns the evidence it belongs to, or null. */
    Evidence alertEncoding() {
        ThreadState ts = threads.get();
        Object transport = ts.alertScope;
        Evidence ev = tracker.find(transport);
        if (ev == null) {
            return null;
        }
        start(ev, transport);
        // held open while the bytes go out, so that a reply read meanwhile cannot be emitted first
        ev.enterCall();
        ts.alertEncodingAt = System.nanoTime();
        return ev;
    }

    void alertEncoded(Evidence ev, int level, int description, Throwable thrown) {
        ThreadState ts = threads.get();
        try {
            if (thrown != null) {
                return;
            }
            if ((description & 0xFF) == AlertNames.CLOSE_NOTIFY) {
                if (!(ts.alertScope instanceof SSLSocket)) {
                    // queued: it leaves with the next wrap, which is when it counts as sent
                    ev.closeNotifyQueued = true;
                    return;
                }
                ev.closeNotifySent = true;
            }
            tracker.decide(ev, Classifier.alertSent(level, description), ts.alertEncodingAt);
        } finally {
            ev.exitCall();
        }
        if (ev.activeCalls() == 0 && ev.decided()) {
            tracker.emit(ev);
        }
    }

    void alertReceived(Object transportContext, ByteBuffer message) {
        if (message.remaining() < 2) {
            return;
        }
        Object transport = jsse.transportOf(transportContext);
        Evidence ev = evidence(transport, false);
        if (ev == null) {
            return;
        }
        start(ev, transport);
        int level = message.get(message.position());
        int description = message.get(message.position() + 1) & 0xFF;
        if (description == AlertNames.CLOSE_NOTIFY) {
            ev.closeNotifyReceived = true;
        }
        tracker.decide(ev, Classifier.alertReceived(level, description));
    }

    void fatal(Object transport, Object alert, Throwable cause, boolean receivedFatalAlert, boolean alreadyClosed) {
        if (alreadyClosed || receivedFatalAlert) {
            return;
        }
        Evidence ev = evidence(transport, false);
        if (ev == null) {
            return;
        }
        start(ev, transport);
        if (ev.decided()) {
            return;
        }
        if (cause != null) {
            TransportFailure failure = TransportFailure.of(cause);
            if (failure != TransportFailure.OTHER) {
                tracker.decide(ev, Classifier.transportFailure(failure, ev.localClosing));
                return;
            }
        }
        if (!ev.localClosing) {
            threads.get().pendingFatalAlert = alert instanceof Enum ? AlertNames.ofEnumName(((Enum<?>) alert).name()) : "";
        }
    }

    /** fatal() is done: an alert written or received during it has decided already; otherwise it is local. */
    void fatalDone(Object transport) {
        ThreadState ts = threads.get();
        String alert = ts.pendingFatalAlert;
        ts.pendingFatalAlert = null;
        Evidence ev = alert == null ? null : tracker.find(transport);
        if (ev != null) {
            tracker.decide(ev, Classifier.fatalWithoutAlert(alert));
        }
    }

    void recordEof(boolean midRecord) {
        threads.get().recordEof = midRecord ? 2 : 1;
    }

    void peerEof(Object transport) {
        ThreadState ts = threads.get();
        boolean mid = ts.recordEof == 2;
        ts.recordEof = 0;
        Evidence ev = evidence(transport, false);
        if (ev == null) {
            return;
        }
        // a read that began before an attach meets the EOF: the connection was established all along
        adopt(ev, transport);
        start(ev, transport);
        tracker.decide(ev, Classifier.peerEof(mid));
    }

    void channelFailed(Object channel, Throwable thrown) {
        tracker.channelFailed(channel, thrown);
    }

    /** A SocketChannel writes {@code src}: if an engine wrapped it, the two are linked from now on. */
    void channelWrites(Object channel, Object src) {
        Evidence ev = tracker.channelWrites(channel, src);
        if (ev != null && channel instanceof java.nio.channels.SocketChannel) {
            java.nio.channels.SocketChannel sc = (java.nio.channels.SocketChannel) channel;
            try {
                Tracker.describeChannel(ev, sc.getLocalAddress(), sc.getRemoteAddress());
            } catch (java.io.IOException | RuntimeException closedOrDenied) {
                // the ports stay unknown
            }
        }
    }

    void channelEof(Object channel) {
        tracker.channelEof(channel);
    }

    void channelClosing(Object channel, Object remembered) {
        tracker.channelClosing(channel, remembered);
    }

    // ---------------------------------------------------------------- application calls

    /**
     * A connection first seen after its handshake started (the agent was attached to a running JVM)
     * is tracked from now on, unless it had already ended before the agent could see it.
     */
    private void adopt(Evidence ev, Object transport) {
        if (ev.started()) {
            return;
        }
        JsseAccess.State s = jsse.state(transport);
        if (s == null || !s.established || s.ended) {
            return;
        }
        ev.adopted = true;
        start(ev, transport);
    }

    /**
     * {@code remembered}: the evidence the engine or socket remembers (passed by the hooks that ask for it,
     * where the JVM defined the class with the agent present), or null; once it is found by the transport's
     * identity, the transport remembers it (see {@link Tracker.Memory}).
     */
    Evidence callEnter(Object transport, int call, Object remembered) {
        Evidence ev = remembered instanceof Evidence ? (Evidence) remembered : evidence(transport, false);
        if (ev == null) {
            return null;
        }
        // a channel failure belongs to the engine this thread closes next, decided or not: never keep it.
        // A layered connection's event loop serves many channels: there the failure is matched by channel
        Throwable failure = (call == JsseStack.ENGINE_CLOSE_INBOUND || call == JsseStack.ENGINE_CLOSE_OUTBOUND)
                && !ev.layered ? tracker.takeChannelFailure() : null;
        adopt(ev, transport);
        ev.enterCall();
        if (!ev.started() || ev.decided()) {
            if (call == JsseStack.SOCKET_CLOSE || call == JsseStack.ENGINE_CLOSE_OUTBOUND) {
                ev.localClosing = true;
            }
            return ev;
        }
        if (ev.peerBareFin && (call == JsseStack.SOCKET_CLOSE || call == JsseStack.SOCKET_SHUTDOWN_OUTPUT)) {
            // the peer had ended it (a FIN, nothing unread) while it idled: closing it is noticing that
            tracker.decide(ev, Classifier.peerEof(false));
        }
        switch (call) {
            case JsseStack.SOCKET_CLOSE:
                if (isFinalizer(Thread.currentThread())) {
                    tracker.decide(ev, Classifier.abandoned());
                } else if (ev.readTimedOut) {
                    String seen = ev.timeoutSeen;
                    if (seen != null) {
                        tracker.show(ev, Ending.SAW_EXCEPTION, seen);
                    }
                    tracker.decide(ev, Classifier.closeAfterTimeout());
                }
                ev.localClosing = true;
                break;
            case JsseStack.ENGINE_CLOSE_INBOUND:
            case JsseStack.ENGINE_CLOSE_OUTBOUND:
                // its channel reached EOF before: that ended it, whatever this close sends now
                tracker.transportEnded(ev);
                tracker.chargeChannelFailure(ev, failure);
                if (call == JsseStack.ENGINE_CLOSE_OUTBOUND) {
                    ev.localClosing = true;
                }
                break;
            default:
                break;
        }
        return ev;
    }

    private static boolean isFinalizer(Thread t) {
        return t.getClass().getName().equals("java.lang.ref.Finalizer$FinalizerThread");
    }

    /** A connection whose record went out in a call on {@code transport} leaves the table, see {@link Tracker#leaveTable}. */
    void leaveTable(Object transport, Evidence ev) {
        if (ev != null && transport != null && ev.emitted()) {
            tracker.leaveTable(transport, ev);
        }
    }

    void callExit(Evidence ev, int call, long result, Throwable thrown) {
        if (!ev.started() || call == JsseStack.ENGINE_TASK) {
            // a delegated task's decision is shown to the application by its next wrap or unwrap
            ev.exitCall();
            return;
        }
        switch (call) {
            case JsseStack.SOCKET_READ:
                if (thrown == null) {
                    if (result > 0) {
                        ev.bytesIn += result;
                        tracker.dataReceived(ev);
                        if (ev.readTimedOut) {
                            ev.readTimedOut = false;
                        }
                    }
                } else {
                    transportCallFailed(ev, thrown);
                }
                break;
            case JsseStack.SOCKET_WRITE:
                if (thrown == null) {
                    ev.bytesOut += result;
                    if (result > 0) {
                        tracker.dataMoved(ev);
                    }
                    if (ev.readTimedOut) {
                        ev.readTimedOut = false;
                    }
                } else {
                    transportCallFailed(ev, thrown);
                }
                break;
            case JsseStack.SOCKET_HANDSHAKE:
                if (thrown != null) {
                    transportCallFailed(ev, thrown);
                }
                break;
            case JsseStack.SOCKET_CLOSE:
                if (!ev.decided()) {
                    tracker.decide(ev, Classifier.closeWithoutCloseNotify());
                }
                break;
            case JsseStack.ENGINE_CLOSE_INBOUND:
                if (thrown instanceof SSLException && !ev.decided()) {
                    tracker.decide(ev, Classifier.peerEof(ev.partialRecordBytes > 0));
                }
                break;
            case JsseStack.ENGINE_CLOSE_OUTBOUND:
                if (ev.closeNotifyQueued && !ev.closeNotifySent) {
                    // the record goes out with the wrap that carries the close_notify just queued
                    ev.exitCall();
                    return;
                }
                break;
            default:
                break;
        }
        ev.exitCall();
        tracker.finishCall(ev, call == JsseStack.SOCKET_READ && result < 0 && thrown == null, thrown);
    }

    private void transportCallFailed(Evidence ev, Throwable thrown) {
        TransportFailure f = TransportFailure.of(thrown);
        if (f == TransportFailure.TIMED_OUT && !ev.decided()) {
            // not decisive: the application may read past it; a close next makes it a TIMEOUT
            ev.timeoutSeen = ExceptionText.of(thrown);
            ev.readTimedOut = true;
            return;
        }
        tracker.decide(ev, Classifier.transportFailure(f, ev.localClosing));
    }

    void engineResult(Object transport, Evidence ev, int call, Object result, ByteBuffer[] sources, int offset,
                      int length, Throwable thrown) {
        if (ev == null) {
            return;
        }
        boolean sawEof = false;
        if (result instanceof SSLEngineResult) {
            SSLEngineResult r = (SSLEngineResult) result;
            if (!ev.started() && (r.bytesConsumed() > 0 || r.bytesProduced() > 0)) {
                start(ev, transport);
            }
            if (!ev.started()) {
                ev.exitCall();
                return;
            }
            SSLEngineResult.Status status = r.getStatus();
            if (call == JsseStack.ENGINE_UNWRAP) {
                if (r.bytesProduced() > 0) {
                    ev.bytesIn += r.bytesProduced();
                    tracker.dataReceived(ev);
                }
                if (status == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                    ev.partialRecordBytes = remaining(sources, offset, length);
                } else if (r.bytesConsumed() > 0 && ev.partialRecordBytes != 0) {
                    ev.partialRecordBytes = 0;
                }
                sawEof = status == SSLEngineResult.Status.CLOSED && ev.closeNotifyReceived;
            } else {
                if (r.bytesConsumed() > 0) {
                    ev.bytesOut += r.bytesConsumed();
                    tracker.dataMoved(ev);
                }
                if (r.bytesProduced() > 0 && !ev.layered && sources != null && offset >= 0 && offset < sources.length) {
                    tracker.wrapped(ev, sources[offset], r.bytesProduced());
                }
                if (status == SSLEngineResult.Status.CLOSED && r.bytesProduced() > 0 && ev.closeNotifyQueued
                        && !ev.closeNotifySent && !ev.transportClosed) {
                    ev.closeNotifySent = true;
                    tracker.decide(ev, Classifier.alertSent(AlertNames.LEVEL_WARNING, AlertNames.CLOSE_NOTIFY));
                }
            }
        }
        ev.exitCall();
        if (ev.started()) {
            tracker.finishCall(ev, sawEof, thrown);
        }
    }

    static int remaining(ByteBuffer[] sources, int offset, int length) {
        if (sources == null) {
            return 0;
        }
        int n = 0;
        for (int i = offset; i < offset + length && i < sources.length; i++) {
            if (sources[i] != null) {
                n += sources[i].remaining();
            }
        }
        return n;
    }
}
