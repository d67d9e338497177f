package dev.tlsautopsy.stack.netty;

import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import dev.tlsautopsy.classify.TransportFailure;
import dev.tlsautopsy.classify.Verdict;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Tracker;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/** What an SslHandler's and its channel's events mean for the channel's one connection. */
final class NettyReading {

    private final Tracker tracker;
    private final NettyStack owner;

    NettyReading(Tracker tracker, NettyStack owner) {
        this.tracker = tracker;
        this.owner = owner;
    }

    /** {@code subject}: the SslHandler, its context, or the channel, as each hook says. */
    void event(int event, Object subject, Object argument) {
        switch (event) {
            case NettyStack.HANDLER_CREATED: {
                // one record per channel: the engine's own hooks feed the handler's evidence
                Object engine = argument;
                Evidence ev = tracker.track(engine, owner, "Netty", true);
                if (ev == null) {
                    tracker.refused();
                    return;
                }
                if ("Netty".equals(ev.api)) {
                    ev.layered = true;
                }
                tracker.alias(subject, ev);
                if (engine instanceof SSLEngine && ev.role.isEmpty()) {
                    // Netty sets the mode before it builds the handler; a server's handshake may never begin
                    ev.role = ((SSLEngine) engine).getUseClientMode() ? "CLIENT" : "SERVER";
                }
                return;
            }
            case NettyStack.HANDLER_ADDED: {
                Evidence ev = tracker.find(subject);
                Object channel = NettyAccess.channel(argument);
                if (ev != null && channel != null) {
                    NettyStack.state(ev).channel = new java.lang.ref.WeakReference<>(channel);
                    tracker.alias(channel, ev);
                    Object javaChannel = NettyAccess.javaChannel(channel);
                    if (javaChannel != null) {
                        // its read and write failures are this connection's, whichever thread sees them
                        tracker.alias(javaChannel, ev);
                    }
                }
                return;
            }
            case NettyStack.CHANNEL_WRITE_FAILURE: {
                Evidence ev = found(subject, true);
                if (ev != null && ev.started() && !ev.decided() && argument instanceof Throwable) {
                    Verdict v = Classifier.transportFailure(TransportFailure.of((Throwable) argument), ev.localClosing);
                    if (v != null) {
                        // the application learns of it from the write's future, if it looks
                        tracker.show(ev, Ending.SAW_EXCEPTION, (Throwable) argument);
                        tracker.decide(ev, v);
                    }
                }
                return;
            }
            case NettyStack.CHANNEL_PEER_EOF: {
                Evidence ev = found(subject, true);
                if (ev != null) {
                    NettyStack.state(ev).peerEof = true;
                }
                return;
            }
            case NettyStack.CHANNEL_CLOSING: {
                Evidence ev = found(subject, true);
                if (ev == null) {
                    return;
                }
                NettyStack.ChannelState st = NettyStack.state(ev);
                if (!st.peerEof) {
                    st.closedBelow = true;
                }
                synchronized (ev) {
                    if (ev.layered && owner.holds(ev) && !ev.emitted() && st.closeBegunNanos != 0
                            && System.nanoTime() - st.closeBegunNanos >= st.flushTimeoutNanos
                            && NettyAccess.pendingOutboundBytes(subject) > 0) {
                        // SslHandler gave up flushing its close_notify (closeNotifyFlushTimeoutMillis) and
                        // force-closes the channel: the peer never gets it. (Earlier than that, bytes still
                        // counted as pending are being written: a transport completing a batch of writes
                        // closes from inside it, io_uring among them.)
                        ev.closeNotifySent = false;
                        tracker.revise(ev, Classifier.closeAfterTimeout());
                    }
                    st.closing = true;
                }
                if (ev.activeCalls() == 0) {
                    tracker.emit(ev);
                }
                return;
            }
            case NettyStack.CONTEXT_HANDSHAKE_FAILURE:
                // SslUtils knows only the handler's context
                subject = NettyAccess.handler(subject);
                event = NettyStack.HANDSHAKE_FAILURE;
                break;
            default:
                break;
        }
        Evidence ev = subject == null ? null : found(subject, false);
        if (ev == null) {
            return;
        }
        if (!ev.started() && (event == NettyStack.HANDSHAKE_FAILURE || event == NettyStack.EXCEPTION)) {
            // the handler was waiting for a handshake: a timeout or garbage ends a real connection attempt
            tracker.start(ev, subject);
        }
        if (!ev.started()) {
            return;
        }
        switch (event) {
            case NettyStack.CLOSING: {
                ev.localClosing = true;
                NettyStack.ChannelState st = NettyStack.state(ev);
                if (st.closeBegunNanos == 0) {
                    st.flushTimeoutNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
                            NettyAccess.closeNotifyFlushTimeoutMillis(subject));
                    st.closeBegunNanos = System.nanoTime();
                }
                return;
            }
            case NettyStack.EXCEPTION: {
                Throwable cause = (Throwable) argument;
                Verdict v = Classifier.transportFailure(TransportFailure.of(cause), ev.localClosing);
                if (v == null && !ev.localClosing && hasSslException(cause)) {
                    // not decided by the engine (e.g. NotSslRecordException before any engine call): no alert
                    v = Classifier.fatalWithoutAlert("");
                }
                tracker.show(ev, Ending.SAW_EXCEPTION, cause);
                tracker.decide(ev, v);
                return;
            }
            case NettyStack.HANDSHAKE_FAILURE: {
                Throwable cause = (Throwable) argument;
                Verdict v = null;
                if (cause != null && cause.getClass().getName().endsWith(".SslHandshakeTimeoutException")) {
                    v = Classifier.closeAfterTimeout();
                } else if (!ev.decided() && !ev.localClosing && hasSslException(cause)) {
                    // not decided by the engine (NotSslRecordException comes before any engine call): no alert
                    v = Classifier.fatalWithoutAlert("");
                }
                if (v != null) {
                    tracker.show(ev, Ending.SAW_EXCEPTION, cause);
                    tracker.decide(ev, v);
                }
                return;
            }
            case NettyStack.INACTIVE:
                inactive(ev, subject);
                return;
            case NettyStack.REMOVED:
                if (!ev.decided()) {
                    tracker.decide(ev, Classifier.closeWithoutCloseNotify());
                }
                return;
            default:
                return;
        }
    }

    /**
     * The connection of a handler or (with {@code channel}) a channel; after an attach, one of a handler
     * created before it is adopted here, when first met (the engine's own hooks may have begun its record).
     */
    private Evidence found(Object subject, boolean channel) {
        Evidence ev = tracker.find(subject);
        if (ev != null || !tracker.attached) {
            return ev;
        }
        Object handler = channel ? NettyAccess.sslHandlerOf(subject) : subject;
        return handler == null ? null : adopt(handler);
    }

    private Evidence adopt(Object handler) {
        Object engine = NettyAccess.engine(handler);
        if (!(engine instanceof SSLEngine)) {
            return null;
        }
        Evidence ev = tracker.find(engine);
        if (ev == null) {
            ev = tracker.track(engine, owner, "Netty", false);
            if (ev == null) {
                return null;
            }
        }
        if (!"Netty".equals(ev.api) && !tracker.promote(ev, owner, "Netty")) {
            return null;
        }
        ev.layered = true;
        tracker.alias(handler, ev);
        Object channel = NettyAccess.handlerChannel(handler);
        if (channel != null) {
            NettyStack.state(ev).channel = new java.lang.ref.WeakReference<>(channel);
            tracker.alias(channel, ev);
            Object javaChannel = NettyAccess.javaChannel(channel);
            if (javaChannel != null) {
                tracker.alias(javaChannel, ev);
            }
        }
        if (!ev.started()) {
            javax.net.ssl.SSLSession s = ((SSLEngine) engine).getSession();
            String protocol = s == null ? null : s.getProtocol();
            if (protocol != null && !protocol.equals("NONE") && Tracker.negotiated(s.getCipherSuite())) {
                // its handshake finished before the attach
                ev.adopted = true;
                ev.handshakeDoneBefore();
                ev.protocol = protocol;
                ev.cipherSuite = s.getCipherSuite();
            }
            tracker.start(ev, engine);
        }
        return ev;
    }

    private void inactive(Evidence ev, Object handler) {
        NettyStack.ChannelState st = NettyStack.state(ev);
        if (ev.decided()) {
            st.closing = true;
            if (ev.activeCalls() == 0) {
                tracker.emit(ev);
            }
            return;
        }
        Throwable failure = ev.transportFailure;
        Verdict failed = failure == null ? null : Classifier.transportFailure(TransportFailure.of(failure), false);
        if (failed != null) {
            // a write failed below the handler (Netty closes the channel without exceptionCaught)
            tracker.show(ev, Ending.SAW_EXCEPTION, failure);
            tracker.decide(ev, failed);
            return;
        }
        Verdict v;
        if (st.peerEof) {
            boolean partial = ev.partialRecordBytes > 0 || NettyAccess.bufferedBytes(handler) > 0;
            v = Classifier.peerEof(partial);
        } else if (st.closedBelow || ev.localClosing) {
            v = Classifier.closeWithoutCloseNotify();
        } else {
            // a transport this agent does not watch (epoll, io_uring): the channel ended, cause unseen
            v = Verdict.of(Outcome.TRUNCATED, Initiator.UNKNOWN);
        }
        tracker.show(ev, Ending.SAW_EOF, (Throwable) null);
        tracker.decide(ev, v);
    }

    private static boolean hasSslException(Throwable t) {
        for (int i = 0; t != null && i < 10; t = t.getCause(), i++) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }
}
