package dev.tlsautopsy.stack.provider;

import dev.tlsautopsy.classify.AlertNames;
import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.TransportFailure;
import dev.tlsautopsy.classify.Verdict;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Tracker;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/** What another provider's SSLSocket hooks mean for its connection. */
final class ProviderSocketReading {

    private final Tracker tracker;
    private final ProviderSocketStack owner;
    /** How deep this thread is in a socket's stream calls: only the outermost counts. */
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    ProviderSocketReading(Tracker tracker, ProviderSocketStack owner) {
        this.tracker = tracker;
        this.owner = owner;
    }

    /** The socket's connection, started; null for an engine's TLS peer (the engine stack reads those). */
    private Evidence started(Object socket) {
        if (!(socket instanceof SSLSocket)) {
            return null;
        }
        Evidence ev = tracker.track(socket, owner, "SSLSocket", true);
        if (ev != null && !ev.started()) {
            ev.stackState = new java.lang.ref.WeakReference<>(socket);
            tracker.start(ev, socket);
            // a blocking socket learns of the peer's end only when read: the kernel tells it earlier
            tracker.watchWhileIdle(ev);
        }
        return ev;
    }

    private Evidence existing(Object socket) {
        Evidence ev = socket instanceof SSLSocket ? tracker.find(socket) : null;
        return ev != null && ev.started() ? ev : null;
    }

    void handshakeBeginning(Object manager) {
        started(manager);
    }

    void handshakeComplete(Object manager) {
        Evidence ev = existing(manager);
        if (ev != null) {
            ev.handshakeDone();
        }
    }

    /** Conscrypt's socket begins its handshake: its engine's hooks feed this socket's record from now on. */
    void conscryptHandshake(Object socket, Object engine) {
        Evidence ev = started(socket);
        if (ev != null && engine != null && tracker.find(engine) == null) {
            ev.layered = true;
            tracker.alias(engine, ev);
        }
    }

    void alert(Object manager, boolean raised, int level, int description, Object cause) {
        Evidence ev = existing(manager);
        if (ev == null) {
            return;
        }
        Verdict v;
        if (raised) {
            Verdict transport = cause instanceof Throwable ? transportCause((Throwable) cause) : null;
            if (transport != null) {
                // BouncyCastle raises internal_error when its transport failed or ended mid-record: the
                // transport's end decided (the alert is its echo, and rarely leaves)
                tracker.decide(ev, transport);
                return;
            }
            if (description == AlertNames.CLOSE_NOTIFY) {
                ev.closeNotifySent = true;
            }
            v = Classifier.alertSent(level, description);
        } else {
            if (description == AlertNames.CLOSE_NOTIFY) {
                ev.closeNotifyReceived = true;
            }
            v = Classifier.alertReceived(level, description);
        }
        tracker.decide(ev, v);
    }

    /** What ended the transport below an alert raised for {@code cause}, or null when the cause is not the transport's. */
    private static Verdict transportCause(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getClass().getName().endsWith(".TlsNoCloseNotifyException")) {
                return Classifier.peerEof(false);
            }
            if (t instanceof java.io.EOFException) {
                // the transport ended inside a record
                return Classifier.peerEof(true);
            }
            TransportFailure f = TransportFailure.of(t);
            if (f == TransportFailure.RESET || f == TransportFailure.LOCALLY_CLOSED) {
                return Classifier.transportFailure(f, false);
            }
        }
        return null;
    }

    Object closeEnter(Object socket) {
        Evidence ev = existing(socket);
        if (ev == null) {
            return null;
        }
        ev.enterCall();
        if (ev.peerBareFin) {
            // the peer had ended it (a FIN, nothing unread) while it idled: closing it is noticing that
            tracker.decide(ev, Classifier.peerEof(false));
        }
        ev.localClosing = true;
        session(ev);
        return ev;
    }

    void closeExit(Evidence ev, Throwable thrown) {
        if (ev == null) {
            return;
        }
        if (!ev.decided()) {
            // closed without a close_notify going out (the transport was gone, or it was never sent)
            tracker.decide(ev, Classifier.closeWithoutCloseNotify());
        }
        ev.exitCall();
        tracker.finishCall(ev, false, thrown);
    }

    Object callEnter(Object socket) {
        int[] d = depth.get();
        if (d[0]++ > 0) {
            return null;
        }
        Evidence ev = existing(socket);
        if (ev == null) {
            ev = started(socket);
            if (ev == null) {
                return null;
            }
        }
        ev.enterCall();
        return ev;
    }

    void readExit(Evidence ev, long n, Throwable thrown) {
        depth.get()[0]--;
        if (ev == null) {
            return;
        }
        if (thrown == null && n > 0) {
            if (!ev.layered) {
                // a socket over an engine counts what the engine delivered
                ev.bytesIn += n;
            }
            tracker.dataReceived(ev);
            session(ev);
        } else if (thrown != null) {
            failed(ev, thrown);
        } else if (n < 0 && !ev.decided() && !ev.closeNotifyReceived) {
            // the end of the stream without close_notify (Conscrypt, like the JDK, shows it as a plain -1);
            // its engine saw whether a record had begun
            tracker.decide(ev, Classifier.peerEof(ev.partialRecordBytes > 0));
        }
        ev.exitCall();
        tracker.finishCall(ev, thrown == null && n < 0, thrown);
    }

    void writeExit(Evidence ev, long length, Throwable thrown) {
        depth.get()[0]--;
        if (ev == null) {
            return;
        }
        if (thrown == null) {
            if (!ev.layered) {
                ev.bytesOut += length == 0 ? 1 : length;
            }
            tracker.dataMoved(ev);
            session(ev);
        } else {
            failed(ev, thrown);
        }
        ev.exitCall();
        tracker.finishCall(ev, false, thrown);
    }

    private void failed(Evidence ev, Throwable thrown) {
        if (ev.decided()) {
            return;
        }
        if (thrown.getClass().getName().endsWith(".TlsNoCloseNotifyException")) {
            // BouncyCastle: the transport ended without close_notify
            tracker.decide(ev, Classifier.peerEof(false));
            return;
        }
        TransportFailure f = TransportFailure.of(thrown);
        if (f == TransportFailure.TIMED_OUT) {
            ev.readTimedOut = true;
            return;
        }
        tracker.decide(ev, Classifier.transportFailure(f, ev.localClosing));
    }

    /**
     * The negotiated protocol and cipher suite, read once after the handshake, from an application call
     * (never inside the provider's handshake, where its locks are held).
     */
    private static void session(Evidence ev) {
        if (!ev.protocol.isEmpty() || !ev.handshakeCompleted || !(ev.stackState instanceof java.lang.ref.WeakReference)) {
            return;
        }
        try {
            Object s = ((java.lang.ref.WeakReference<?>) ev.stackState).get();
            SSLSession session = s instanceof SSLSocket ? ((SSLSocket) s).getSession() : null;
            if (session != null) {
                ev.protocol = session.getProtocol();
                ev.cipherSuite = session.getCipherSuite();
            }
        } catch (RuntimeException ignored) {
            // stays empty
        }
    }
}
