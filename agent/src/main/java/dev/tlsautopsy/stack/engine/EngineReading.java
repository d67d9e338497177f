package dev.tlsautopsy.stack.engine;

import dev.tlsautopsy.classify.AlertNames;
import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Verdict;
import dev.tlsautopsy.instrument.RememberedField;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Tracker;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/** What the calls into an engine that is not the JDK's mean for its connection. */
final class EngineReading {

    /**
     * This thread's calls into engines: how deep (only the outermost counts), and the outermost one's
     * details. One per thread, reused: a call allocates nothing.
     */
    private static final class Call {
        int depth;
        Evidence ev;
        int hook;
        Object engine;
        /** A wrap's destination buffer. */
        Object dst;
        final UnwrapSources sources = new UnwrapSources();

        void clear() {
            ev = null;
            engine = null;
            dst = null;
            sources.clear();
        }
    }

    private final Tracker tracker;
    private final EngineStack owner;
    private final ThreadLocal<Call> calls = new ThreadLocal<>() {
        @Override
        protected Call initialValue() {
            return new Call();
        }
    };

    EngineReading(Tracker tracker, EngineStack owner) {
        this.tracker = tracker;
        this.owner = owner;
    }

    /**
     * {@code remembered}: the evidence the engine remembers (wrap and unwrap, where its class was defined
     * with the agent present), or null; once it is found by the engine's identity, the engine remembers it.
     */
    Object enter(Object engine, int hook, Object sources, Object remembered) {
        Call c = calls.get();
        if (c.depth++ > 0) {
            return null;
        }
        Evidence ev = remembered instanceof Evidence ? (Evidence) remembered
                : tracker.track(engine, owner, "SSLEngine", true);
        if (ev == null) {
            return null;    // the exit still counts the depth down
        }
        if (remembered == null && (hook == EngineStack.WRAP || hook == EngineStack.UNWRAP)) {
            RememberedField.store(engine, ev);
        }
        ev.enterCall();
        c.ev = ev;
        c.hook = hook;
        c.engine = engine;
        if (!ev.started() && tracker.attached && (hook == EngineStack.WRAP || hook == EngineStack.UNWRAP)) {
            // seen before this call changes it (a close_notify unwrapped may leave no session to read)
            adoptIfEstablished(ev, (SSLEngine) engine);
            if (ev.adopted) {
                tracker.start(ev, engine);
            }
        }
        if (hook == EngineStack.CLOSE_OUTBOUND) {
            ev.localClosing = true;
        }
        if (hook == EngineStack.UNWRAP) {
            c.sources.take(sources);
        } else if (hook == EngineStack.WRAP) {
            c.dst = sources;
        }
        if ((hook == EngineStack.CLOSE_INBOUND || hook == EngineStack.CLOSE_OUTBOUND) && !ev.layered) {
            // its channel reached EOF before: that ended it, whatever this close does now
            tracker.transportEnded(ev);
            tracker.chargeChannelFailure(ev, tracker.takeChannelFailure());
        }
        return c;
    }

    /** After an attach, an engine first seen with its handshake done began before the agent: adopted. */
    private void adoptIfEstablished(Evidence ev, SSLEngine engine) {
        if (!tracker.attached) {
            return;
        }
        javax.net.ssl.SSLSession s = engine.getSession();
        String protocol = s == null ? null : s.getProtocol();
        // a fresh OpenSSL engine reports NOT_HANDSHAKING and a protocol before its handshake: the
        // negotiated cipher suite is what only an established connection has
        if (protocol != null && !protocol.equals("NONE") && Tracker.negotiated(s.getCipherSuite())
                && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
            ev.adopted = true;
            ev.handshakeDoneBefore();
            ev.protocol = protocol;
            ev.cipherSuite = s.getCipherSuite();
        }
    }

    void exit(Object token, Object result, Throwable thrown) {
        Call c = calls.get();
        if (c.depth > 0) {
            c.depth--;
        }
        if (token == null) {
            return;
        }
        try {
            exit(c, result, thrown);
        } finally {
            c.clear();
        }
    }

    private void exit(Call c, Object result, Throwable thrown) {
        Evidence ev = c.ev;
        boolean sawEof = false;
        if (result instanceof SSLEngineResult) {
            SSLEngineResult r = (SSLEngineResult) result;
            // an application driving an engine directly has begun a connection with its first wrap or
            // unwrap, even one that found nothing to read yet (a peer that never says hello)
            if (!ev.started() && (r.bytesConsumed() > 0 || r.bytesProduced() > 0 || !ev.layered)) {
                adoptIfEstablished(ev, (SSLEngine) c.engine);
                tracker.start(ev, c.engine);
            }
            if (ev.started()) {
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED && !ev.handshakeCompleted) {
                    ev.handshakeDone();
                    javax.net.ssl.SSLSession s = ((SSLEngine) c.engine).getSession();
                    ev.protocol = s.getProtocol();
                    ev.cipherSuite = s.getCipherSuite();
                }
                if (c.hook == EngineStack.UNWRAP) {
                    if (r.bytesProduced() > 0) {
                        ev.bytesIn += r.bytesProduced();
                        tracker.dataReceived(ev);
                    }
                    RecordFraming.follow(ev, c.sources);
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && c.sources.remaining() > 0) {
                        // the engine left the start of a record in the application's buffer (BouncyCastle)
                        ev.partialRecordBytes = 1;
                    }
                    // checked only when the engine asks for a wrap, which is how it holds an error back
                    Throwable deferred = ev.decided() || r.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP
                            ? null : DeferredErrors.pending(c.engine);
                    if (deferred != null) {
                        // Netty's OpenSSL engine keeps a read error until a later wrap has sent its alert
                        Verdict v = ProviderErrors.classify(deferred);
                        tracker.decide(ev, v != null ? v : Classifier.fatalWithoutAlert(""));
                    }
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesConsumed() > 0) {
                        ev.closeNotifyReceived = true;
                        tracker.decide(ev, Classifier.alertReceived(AlertNames.LEVEL_WARNING, AlertNames.CLOSE_NOTIFY));
                        sawEof = true;
                    }
                } else if (c.hook == EngineStack.WRAP) {
                    if (r.bytesConsumed() > 0) {
                        ev.bytesOut += r.bytesConsumed();
                        tracker.dataMoved(ev);
                    }
                    if (r.bytesProduced() > 0 && !ev.layered) {
                        tracker.wrapped(ev, c.dst, r.bytesProduced());
                    }
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesProduced() > 0 && ev.localClosing
                            && !ev.closeNotifySent && !ev.transportClosed) {
                        ev.closeNotifySent = true;
                        tracker.decide(ev, Classifier.alertSent(AlertNames.LEVEL_WARNING, AlertNames.CLOSE_NOTIFY));
                    }
                }
            }
        }
        if (thrown instanceof SSLException) {
            if (c.hook == EngineStack.CLOSE_INBOUND) {
                if (ev.started()) {
                    tracker.decide(ev, Classifier.peerEof(ev.partialRecordBytes > 0));
                }
            } else if (c.hook == EngineStack.WRAP || c.hook == EngineStack.UNWRAP) {
                tracker.start(ev, c.engine);
                Verdict v = ProviderErrors.classify(thrown);
                tracker.decide(ev, v != null ? v : Classifier.fatalWithoutAlert(""));
            }
        }
        ev.exitCall();
        if (c.hook == EngineStack.CLOSE_OUTBOUND && thrown == null && !ev.closeNotifySent && !ev.layered
                && !((SSLEngine) c.engine).isOutboundDone()) {
            // the record goes out with the wrap that carries the close_notify just queued
            return;
        }
        if (ev.started()) {
            tracker.finishCall(ev, sawEof, thrown);
        }
    }

}
