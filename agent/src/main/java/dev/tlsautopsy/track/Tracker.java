package dev.tlsautopsy.track;

import dev.tlsautopsy.bootstrap.Hooks;
import dev.tlsautopsy.bootstrap.Sink;
import dev.tlsautopsy.classify.AlertNames;
import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import dev.tlsautopsy.classify.ProviderErrors;
import dev.tlsautopsy.classify.TransportFailure;
import dev.tlsautopsy.classify.Verdict;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * Turns hook reports into per-connection evidence, lets the first decisive event set the verdict,
 * and emits exactly one {@link Ending} per started connection: at the exit of the application call
 * that observed the decisive event (so the record knows what the application saw), at once when no
 * application call is active, when the connection is garbage-collected, or at JVM exit.
 */
public final class Tracker implements Sink {

    /** Where finished records go. */
    public interface Publisher {
        /** Called once per started connection; may return an object to keep until its ending (a JFR event). */
        Object started();

        void ended(Ending ending, Object startedToken);
    }

    private static final long CHANNEL_FAILURE_TTL_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** Per-thread hand-over between hooks that run inside one another on the same thread. */
    private static final class ThreadState {
        Object alertScope;
        int recordEof;              // 0 none, 1 at a record boundary, 2 inside a record
        Throwable channelFailure;
        Object failedChannel;
        int engineDepth;
        long channelFailureNanos;
    }

    /**
     * Connections tracked at once (live TLS objects not yet collected, about 330 bytes each): a
     * connection opened beyond it is not recorded, counted in {@link #untracked}, warned about once.
     */
    public static final int MAX_TRACKED = Integer.getInteger("tlsautopsy.maxTracked", 500_000);
    private final ConnectionTable table = new ConnectionTable(MAX_TRACKED);
    private final AtomicLong untracked = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean limitWarned = new java.util.concurrent.atomic.AtomicBoolean();
    private final ThreadLocal<ThreadState> threads = ThreadLocal.withInitial(ThreadState::new);
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong startedCount = new AtomicLong();
    private final AtomicLong endedCount = new AtomicLong();
    private final JsseAccess jsse;
    private final Publisher publisher;

    public Tracker(Publisher publisher) {
        this.jsse = new JsseAccess();
        this.publisher = publisher;
        Thread reaper = new Thread(this::reap, "tls-autopsy-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    /** Connections that started and have not ended yet. */
    public long open() {
        return startedCount.get() - endedCount.get();
    }

    // ---------------------------------------------------------------- evidence

    private Evidence evidence(Object transport, boolean create) {
        return evidence(transport, create, false);
    }

    /**
     * {@code born}: the call where a connection begins. Once the tracking limit has refused (and
     * counted) a connection, evidence is created only there: a connection first seen later may be a
     * refused one, which must not be recorded as well as counted missed.
     */
    private Evidence evidence(Object transport, boolean create, boolean born) {
        if (transport == null) {
            return null;
        }
        if (!create || (!born && untracked.get() > 0)) {
            return table.get(transport);
        }
        Evidence ev = table.getOrCreate(transport, this::newEvidence);
        if (ev == null) {
            atLimit(false);
        }
        return ev;
    }

    /** {@code born}: called where a connection begins (a handshake starting, a Netty handler), so it is counted once. */
    private void atLimit(boolean born) {
        if (born) {
            untracked.incrementAndGet();
        }
        if (limitWarned.compareAndSet(false, true)) {
            System.err.println("tls-autopsy: " + table.size() + " connections tracked, the limit (tlsautopsy.maxTracked="
                    + MAX_TRACKED + "); connections opened beyond it are not recorded; this warning is not repeated");
        }
    }

    /** Connections not recorded because the tracking limit was reached. */
    public long untracked() {
        return untracked.get();
    }

    private Evidence newEvidence(Object transport) {
        String api = transport instanceof SSLSocket ? "SSLSocket" : transport instanceof SSLEngine ? "SSLEngine" : "";
        return new Evidence(ids.incrementAndGet(), api, transport.getClass().getName());
    }

    private void markStarted(Evidence ev, Object transport) {
        if (ev.started) {
            return;
        }
        synchronized (ev) {
            if (ev.started) {
                return;
            }
            ev.started = true;
        }
        startedCount.incrementAndGet();
        ev.jfrEvent = publisher.started();
        describe(ev, transport);
        if (transport != null) {
            // first seen mid-connection (attached to a running JVM): the handshake may be long done
            JsseAccess.State s = jsse.state(transport);
            if (s != null && s.negotiated) {
                ev.handshakeCompleted = true;
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

    private void describe(Evidence ev, Object transport) {
        if (transport == null) {
            return;
        }
        if (ev.role.isEmpty()) {
            ev.role = jsse.role(transport);
        }
        if (transport instanceof SSLEngine && ev.role.isEmpty()) {
            ev.role = ((SSLEngine) transport).getUseClientMode() ? "CLIENT" : "SERVER";
        }
        if (ev.nettyChannel != null) {
            NettyAccess.describe(ev, ev.nettyChannel.get());
            return;
        }
        if (transport instanceof SSLSocket) {
            SSLSocket s = (SSLSocket) transport;
            SocketAddress remote = s.getRemoteSocketAddress();
            if (remote instanceof InetSocketAddress) {
                InetSocketAddress r = (InetSocketAddress) remote;
                ev.peerHost = r.getHostString();
                ev.peerPort = r.getPort();
            }
            ev.localPort = s.getLocalPort();
        } else if (transport instanceof SSLEngine) {
            SSLEngine e = (SSLEngine) transport;
            String host = e.getPeerHost();
            ev.peerHost = host == null ? "" : host;
            ev.peerPort = e.getPeerPort();
        }
    }

    // ---------------------------------------------------------------- deciding and emitting

    private void decide(Evidence ev, Verdict v) {
        decide(ev, v, System.nanoTime());
    }

    /**
     * The first decisive event in time wins: an event that happened before the current verdict's
     * (its hook ran later, e.g. after a socket write) replaces it while it is not emitted yet.
     */
    private void decide(Evidence ev, Verdict v, long at) {
        if (v == null || ev == null || !ev.started) {
            return;
        }
        synchronized (ev) {
            if (ev.emitted || (ev.verdict != null && ev.endNanos <= at)) {
                return;
            }
            ev.verdict = v;
            ev.endNanos = at;
        }
        if (ev.activeCalls == 0) {
            emit(ev);
        }
    }

    private void emit(Evidence ev) {
        emit(ev, false);
    }

    /**
     * A Netty connection's own close_notify counts once it left for the socket: until its channel
     * closes, the record waits (a close_notify still queued then was dropped by the flush timeout).
     */
    private static boolean awaitingFlush(Evidence ev) {
        Verdict v = ev.verdict;
        return ev.netty() && ev.nettyChannel != null && !ev.nettyChannelClosing && ev.closeNotifySent
                && v.outcome() == Outcome.CLEAN && v.initiator() == Initiator.LOCAL;
    }

    private void emit(Evidence ev, boolean force) {
        Ending ending;
        synchronized (ev) {
            if (ev.emitted || ev.verdict == null || !ev.started || (!force && awaitingFlush(ev))) {
                return;
            }
            ev.emitted = true;
            Verdict v = ev.verdict;
            ending = new Ending(ev.id, v.outcome(), v.initiator(), ev.handshakeCompleted, ev.closeNotifySent,
                    ev.closeNotifyReceived, v.alert(), v.alertDirection(),
                    ev.appSaw == null ? Ending.SAW_NOTHING : ev.appSaw, ev.exception == null ? "" : ev.exception,
                    ev.api, ev.implementation, ev.role, ev.peerHost, ev.peerPort, ev.localPort, ev.protocol,
                    ev.cipherSuite, ev.bytesIn, ev.bytesOut,
                    TimeUnit.NANOSECONDS.toMillis(ev.endNanos - ev.startNanos));
        }
        endedCount.incrementAndGet();
        Object token = ev.jfrEvent;
        ev.jfrEvent = null;
        publisher.ended(ending, token);
    }



    private static final java.util.regex.Pattern HEX_DUMP = java.util.regex.Pattern.compile("[0-9a-fA-F]{16,}");

    /**
     * {@code class: message}, with hex dumps elided: some stacks put the bytes they received in the
     * message (Netty's "not an SSL/TLS record: 474554..." is the peer's plaintext), and no record may
     * carry plaintext.
     */
    static String describe(Throwable t) {
        String m = t.getMessage();
        if (m == null) {
            return t.getClass().getName();
        }
        java.util.regex.Matcher hex = HEX_DUMP.matcher(m);
        StringBuilder b = new StringBuilder(t.getClass().getName()).append(": ");
        int last = 0;
        while (hex.find()) {
            b.append(m, last, hex.start()).append("<").append(hex.group().length() / 2).append(" bytes elided>");
            last = hex.end();
        }
        return b.append(m, last, m.length()).toString();
    }

    private void reap() {
        while (true) {
            try {
                Evidence ev = table.awaitCollected();
                if (ev.started && !ev.emitted) {
                    synchronized (ev) {
                        if (ev.verdict == null) {
                            ev.verdict = Classifier.abandoned();
                            ev.endNanos = System.nanoTime();
                        }
                    }
                    emit(ev, true);
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // keep reaping; a failure here must not stop the thread
            }
        }
    }

    /** At JVM exit: emit every connection that was decided but whose deciding call never returned. */
    public void flush() {
        table.forEach(ev -> {
            if (ev.verdict != null && !ev.emitted) {
                emit(ev, true);
            }
        });
    }

    // ---------------------------------------------------------------- Sink: JSSE funnels

    @Override
    public boolean needsJsseLookup() {
        return jsse.needsLookup();
    }

    @Override
    public void jsseLookup(Object lookup) {
        jsse.grant(lookup);
    }

    @Override
    public void handshakeStarting(Object transport) {
        Evidence ev = evidence(transport, true, true);
        if (ev != null) {
            markStarted(ev, transport);
        } else {
            atLimit(true);
        }
    }

    @Override
    public void handshakeFinished(Object transport, Object session) {
        Evidence ev = evidence(transport, true);
        if (ev == null) {
            return;
        }
        markStarted(ev, transport);
        ev.handshakeCompleted = true;
        recordSession(ev, session);
    }

    @Override
    public Object enterAlertScope(Object transport) {
        ThreadState ts = threads.get();
        Object previous = ts.alertScope;
        ts.alertScope = transport;
        return previous;
    }

    @Override
    public void exitAlertScope(Object previous) {
        threads.get().alertScope = previous;
    }

    @Override
    public Object alertEncoding() {
        Object transport = threads.get().alertScope;
        Evidence ev = evidence(transport, false);
        if (ev == null) {
            return null;
        }
        markStarted(ev, transport);
        // held open while the bytes go out, so that a reply read meanwhile cannot be emitted first
        ev.enterCall();
        ev.alertEncodingAt = System.nanoTime();
        return ev;
    }

    @Override
    public void alertEncoded(Object token, int level, int description, Throwable thrown) {
        Evidence ev = (Evidence) token;
        try {
            if (thrown != null) {
                return;
            }
            if ((description & 0xFF) == AlertNames.CLOSE_NOTIFY) {
                if (!(threads.get().alertScope instanceof SSLSocket)) {
                    // queued: it leaves with the next wrap, which is when it counts as sent
                    ev.closeNotifyQueued = true;
                    return;
                }
                ev.closeNotifySent = true;
            }
            decide(ev, Classifier.alertSent(level, description), ev.alertEncodingAt);
        } finally {
            ev.exitCall();
        }
        if (ev.activeCalls == 0 && ev.verdict != null) {
            emit(ev);
        }
    }

    @Override
    public void alertReceived(Object transportContext, ByteBuffer message) {
        if (message.remaining() < 2) {
            return;
        }
        Object transport = jsse.transportOf(transportContext);
        Evidence ev = evidence(transport, true);
        if (ev == null) {
            return;
        }
        markStarted(ev, transport);
        int level = message.get(message.position());
        int description = message.get(message.position() + 1) & 0xFF;
        if (description == AlertNames.CLOSE_NOTIFY) {
            ev.closeNotifyReceived = true;
        }
        decide(ev, Classifier.alertReceived(level, description));
    }

    @Override
    public void fatal(Object transport, Object alert, Throwable cause, boolean receivedFatalAlert, boolean alreadyClosed) {
        if (alreadyClosed || receivedFatalAlert) {
            return;
        }
        Evidence ev = evidence(transport, true);
        if (ev == null) {
            return;
        }
        markStarted(ev, transport);
        if (ev.verdict != null) {
            return;
        }
        if (cause != null) {
            TransportFailure failure = TransportFailure.of(cause);
            if (failure != TransportFailure.OTHER) {
                decide(ev, Classifier.transportFailure(failure, ev.localClosing));
                return;
            }
        }
        if (!ev.localClosing) {
            ev.pendingFatalAlert = alert instanceof Enum ? AlertNames.ofEnumName(((Enum<?>) alert).name()) : "";
        }
    }

    @Override
    public void fatalDone(Object transport) {
        Evidence ev = evidence(transport, false);
        if (ev == null || ev.pendingFatalAlert == null) {
            return;
        }
        String alert = ev.pendingFatalAlert;
        ev.pendingFatalAlert = null;
        // an alert written or received during this fatal() has decided already; otherwise it is local
        decide(ev, Classifier.fatalWithoutAlert(alert));
    }

    @Override
    public void recordEof(boolean midRecord) {
        threads.get().recordEof = midRecord ? 2 : 1;
    }

    @Override
    public void peerEof(Object transport) {
        ThreadState ts = threads.get();
        boolean mid = ts.recordEof == 2;
        ts.recordEof = 0;
        Evidence ev = evidence(transport, true);
        if (ev == null) {
            return;
        }
        markStarted(ev, transport);
        decide(ev, Classifier.peerEof(mid));
    }

    // ---------------------------------------------------------------- Sink: application calls

    /**
     * A connection first seen after its handshake started (the agent was attached to a running JVM)
     * is tracked from now on, unless it had already ended before the agent could see it.
     */
    private void adopt(Evidence ev, Object transport) {
        if (ev.started) {
            return;
        }
        JsseAccess.State s = jsse.state(transport);
        if (s == null || !s.established || s.ended) {
            return;
        }
        markStarted(ev, transport);
    }

    @Override
    public Object callEnter(Object transport, int call) {
        // a channel failure belongs to the engine this thread closes next, decided or not: never keep it
        Evidence ev = evidence(transport, true);
        if (ev == null) {
            return null;
        }
        // Netty's event loops serve many channels: there the failure is matched by channel (NETTY_INACTIVE)
        Throwable failure = (call == Hooks.ENGINE_CLOSE_INBOUND || call == Hooks.ENGINE_CLOSE_OUTBOUND)
                && !ev.netty() ? takeChannelFailure() : null;
        adopt(ev, transport);
        ev.enterCall();
        if (!ev.started || ev.verdict != null) {
            if (call == Hooks.SOCKET_CLOSE || call == Hooks.ENGINE_CLOSE_OUTBOUND) {
                ev.localClosing = true;
            }
            return ev;
        }
        switch (call) {
            case Hooks.SOCKET_CLOSE:
                if (isFinalizer(Thread.currentThread())) {
                    decide(ev, Classifier.abandoned());
                } else if (ev.readTimedOut) {
                    synchronized (ev) {
                        if (ev.appSaw == null && ev.timeoutSeen != null) {
                            ev.appSaw = Ending.SAW_EXCEPTION;
                            ev.exception = ev.timeoutSeen;
                        }
                    }
                    decide(ev, Classifier.closeAfterTimeout());
                }
                ev.localClosing = true;
                break;
            case Hooks.ENGINE_CLOSE_INBOUND:
            case Hooks.ENGINE_CLOSE_OUTBOUND:
                chargeChannelFailure(ev, failure);
                if (call == Hooks.ENGINE_CLOSE_OUTBOUND) {
                    ev.localClosing = true;
                }
                break;
            default:
                break;
        }
        return ev;
    }

    /** The channel below an engine failed and the application now closes the engine: that failure ended it. */
    private void chargeChannelFailure(Evidence ev, Throwable failure) {
        Verdict v = failure == null ? null : Classifier.transportFailure(TransportFailure.of(failure), false);
        if (v != null && ev.started) {
            showApplication(ev, Ending.SAW_EXCEPTION, failure);
            decide(ev, v);
        }
    }

    private static boolean isFinalizer(Thread t) {
        return t.getClass().getName().equals("java.lang.ref.Finalizer$FinalizerThread");
    }

    private Throwable takeChannelFailure() {
        ThreadState ts = threads.get();
        Throwable t = ts.channelFailure;
        ts.channelFailure = null;
        ts.failedChannel = null;
        if (t != null && System.nanoTime() - ts.channelFailureNanos > CHANNEL_FAILURE_TTL_NANOS) {
            return null;
        }
        return t;
    }

    @Override
    public void callExit(Object evidence, int call, long result, Throwable thrown) {
        Evidence ev = (Evidence) evidence;
        if (!ev.started || call == Hooks.ENGINE_TASK) {
            // a delegated task's decision is shown to the application by its next wrap or unwrap
            ev.exitCall();
            return;
        }
        switch (call) {
            case Hooks.SOCKET_READ:
                if (thrown == null) {
                    if (result > 0) {
                        ev.bytesIn += result;
                        ev.readTimedOut = false;
                    }
                } else {
                    transportCallFailed(ev, thrown);
                }
                break;
            case Hooks.SOCKET_WRITE:
                if (thrown == null) {
                    ev.bytesOut += result;
                    ev.readTimedOut = false;
                } else {
                    transportCallFailed(ev, thrown);
                }
                break;
            case Hooks.SOCKET_HANDSHAKE:
                if (thrown != null) {
                    transportCallFailed(ev, thrown);
                }
                break;
            case Hooks.SOCKET_CLOSE:
                if (ev.verdict == null) {
                    decide(ev, Classifier.closeWithoutCloseNotify());
                }
                break;
            case Hooks.ENGINE_CLOSE_INBOUND:
                if (thrown instanceof SSLException && ev.verdict == null) {
                    decide(ev, Classifier.peerEof(ev.partialRecordBytes > 0));
                }
                break;
            case Hooks.ENGINE_CLOSE_OUTBOUND:
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
        finishCall(ev, call == Hooks.SOCKET_READ && result < 0 && thrown == null, thrown);
    }

    private void transportCallFailed(Evidence ev, Throwable thrown) {
        TransportFailure f = TransportFailure.of(thrown);
        if (f == TransportFailure.TIMED_OUT && ev.verdict == null) {
            // not decisive: the application may read past it; a close next makes it a TIMEOUT
            ev.timeoutSeen = describe(thrown);
            ev.readTimedOut = true;
            return;
        }
        decide(ev, Classifier.transportFailure(f, ev.localClosing));
    }

    private void finishCall(Evidence ev, boolean sawEof, Throwable thrown) {
        if (ev.verdict == null || ev.emitted) {
            return;
        }
        showApplication(ev, thrown != null ? Ending.SAW_EXCEPTION : sawEof ? Ending.SAW_EOF : Ending.SAW_NOTHING, thrown);
        emit(ev);
    }

    @Override
    public void engineResult(Object transport, Object evidence, int call, Object result, ByteBuffer[] sources,
                             int offset, int length, Throwable thrown) {
        Evidence ev = (Evidence) evidence;
        if (ev == null) {
            return;
        }
        boolean sawEof = false;
        if (result instanceof SSLEngineResult) {
            SSLEngineResult r = (SSLEngineResult) result;
            if (!ev.started && (r.bytesConsumed() > 0 || r.bytesProduced() > 0)) {
                markStarted(ev, transport);
            }
            if (!ev.started) {
                ev.exitCall();
                return;
            }
            SSLEngineResult.Status status = r.getStatus();
            if (call == Hooks.ENGINE_UNWRAP) {
                ev.bytesIn += r.bytesProduced();
                if (status == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                    ev.partialRecordBytes = remaining(sources, offset, length);
                } else if (r.bytesConsumed() > 0) {
                    ev.partialRecordBytes = 0;
                }
                sawEof = status == SSLEngineResult.Status.CLOSED && ev.closeNotifyReceived;
            } else {
                ev.bytesOut += r.bytesConsumed();
                if (status == SSLEngineResult.Status.CLOSED && r.bytesProduced() > 0 && ev.closeNotifyQueued
                        && !ev.closeNotifySent) {
                    ev.closeNotifySent = true;
                    decide(ev, Classifier.alertSent(AlertNames.LEVEL_WARNING, AlertNames.CLOSE_NOTIFY));
                }
            }
        }
        ev.exitCall();
        if (ev.started) {
            finishCall(ev, sawEof, thrown);
        }
    }

    private static int remaining(ByteBuffer[] sources, int offset, int length) {
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

    // ---------------------------------------------------------------- Sink: any other SSLEngine

    /** One outermost call into an engine that is not the JDK's. */
    private static final class EngineCall {
        Evidence ev;
        int call;
        Object engine;
        ByteBuffer[] sources;
        int[] positions;
    }

    @Override
    public Object anyEngineEnter(Object engine, int call, Object sources) {
        ThreadState ts = threads.get();
        if (ts.engineDepth++ > 0) {
            return null;
        }
        Evidence ev = evidence(engine, true, true);
        if (ev == null) {
            return null;    // the exit still counts the depth down
        }
        ev.enterCall();
        EngineCall c = new EngineCall();
        c.ev = ev;
        c.call = call;
        c.engine = engine;
        if (call == Hooks.ENGINE_CLOSE_OUTBOUND) {
            ev.localClosing = true;
        }
        if (call == Hooks.ENGINE_UNWRAP) {
            c.sources = sources instanceof ByteBuffer ? new ByteBuffer[] {(ByteBuffer) sources}
                    : sources instanceof ByteBuffer[] ? (ByteBuffer[]) sources : null;
            if (c.sources != null) {
                c.positions = new int[c.sources.length];
                for (int i = 0; i < c.sources.length; i++) {
                    c.positions[i] = c.sources[i] == null ? 0 : c.sources[i].position();
                }
            }
        }
        if ((call == Hooks.ENGINE_CLOSE_INBOUND || call == Hooks.ENGINE_CLOSE_OUTBOUND) && !ev.netty()) {
            chargeChannelFailure(ev, takeChannelFailure());
        }
        return c;
    }

    @Override
    public void anyEngineExit(Object token, Object result, Throwable thrown) {
        ThreadState ts = threads.get();
        if (ts.engineDepth > 0) {
            ts.engineDepth--;
        }
        if (token == null) {
            return;
        }
        EngineCall c = (EngineCall) token;
        Evidence ev = c.ev;
        boolean sawEof = false;
        if (result instanceof SSLEngineResult) {
            SSLEngineResult r = (SSLEngineResult) result;
            // an application driving an engine directly has begun a connection with its first wrap or
            // unwrap, even one that found nothing to read yet (a peer that never says hello)
            if (!ev.started && (r.bytesConsumed() > 0 || r.bytesProduced() > 0 || !ev.netty())) {
                markStarted(ev, c.engine);
            }
            if (ev.started) {
                if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED && !ev.handshakeCompleted) {
                    ev.handshakeCompleted = true;
                    recordSession(ev, ((SSLEngine) c.engine).getSession());
                }
                if (c.call == Hooks.ENGINE_UNWRAP) {
                    ev.bytesIn += r.bytesProduced();
                    trackRecords(ev, c);
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && c.sources != null
                            && remaining(c.sources, 0, c.sources.length) > 0) {
                        // the engine left the start of a record in the application's buffer (BouncyCastle)
                        ev.partialRecordBytes = 1;
                    }
                    Throwable deferred = ev.verdict == null ? NettyAccess.pendingException(c.engine) : null;
                    if (deferred != null) {
                        // Netty's OpenSSL engine keeps a read error until a later wrap has sent its alert
                        if (Boolean.getBoolean("tlsautopsy.debug")) {
                            System.err.println("tls-autopsy: deferred engine error: " + deferred);
                        }
                        Verdict v = ProviderErrors.classify(deferred);
                        decide(ev, v != null ? v : Classifier.fatalWithoutAlert(""));
                    }
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesConsumed() > 0) {
                        ev.closeNotifyReceived = true;
                        decide(ev, Classifier.alertReceived(AlertNames.LEVEL_WARNING, AlertNames.CLOSE_NOTIFY));
                        sawEof = true;
                    }
                } else if (c.call == Hooks.ENGINE_WRAP) {
                    ev.bytesOut += r.bytesConsumed();
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesProduced() > 0 && ev.localClosing
                            && !ev.closeNotifySent) {
                        ev.closeNotifySent = true;
                        decide(ev, Classifier.alertSent(AlertNames.LEVEL_WARNING, AlertNames.CLOSE_NOTIFY));
                    }
                }
            }
        }
        if (thrown instanceof SSLException) {
            if (c.call == Hooks.ENGINE_CLOSE_INBOUND) {
                if (ev.started) {
                    decide(ev, Classifier.peerEof(ev.partialRecordBytes > 0));
                }
            } else if (c.call == Hooks.ENGINE_WRAP || c.call == Hooks.ENGINE_UNWRAP) {
                markStarted(ev, c.engine);
                Verdict v = ProviderErrors.classify(thrown);
                decide(ev, v != null ? v : Classifier.fatalWithoutAlert(""));
            }
        }
        ev.exitCall();
        if (c.call == Hooks.ENGINE_CLOSE_OUTBOUND && thrown == null && !ev.closeNotifySent && !ev.netty()
                && !((SSLEngine) c.engine).isOutboundDone()) {
            // the record goes out with the wrap that carries the close_notify just queued
            return;
        }
        if (ev.started) {
            finishCall(ev, sawEof, thrown);
        }
    }

    /** Follows the 5-byte TLS record headers through the bytes unwrap consumed. */
    private static void trackRecords(Evidence ev, EngineCall c) {
        if (c.sources == null) {
            return;
        }
        for (int i = 0; i < c.sources.length; i++) {
            ByteBuffer b = c.sources[i];
            if (b == null) {
                continue;
            }
            int p = c.positions[i];
            int end = b.position();
            while (p < end) {
                if (ev.bodyBytesLeft > 0) {
                    int n = Math.min(ev.bodyBytesLeft, end - p);
                    ev.bodyBytesLeft -= n;
                    p += n;
                    continue;
                }
                int x = b.get(p++) & 0xFF;
                if (ev.headerBytesSeen == 3) {
                    ev.headerLength = x << 8;
                } else if (ev.headerBytesSeen == 4) {
                    ev.headerLength |= x;
                }
                if (++ev.headerBytesSeen == 5) {
                    ev.bodyBytesLeft = ev.headerLength;
                    ev.headerBytesSeen = 0;
                }
            }
        }
        ev.partialRecordBytes = ev.headerBytesSeen > 0 || ev.bodyBytesLeft > 0 ? 1 : 0;
    }

    // ---------------------------------------------------------------- Sink: Netty

    @Override
    public void netty(int event, Object subject, Object argument) {
        switch (event) {
            case Hooks.NETTY_HANDLER_CREATED: {
                // one record per channel: the engine's own hooks feed the handler's evidence
                Object engine = argument;
                Evidence ev = table.getOrCreate(engine,
                        k -> new Evidence(ids.incrementAndGet(), "Netty", engine.getClass().getName()));
                if (ev == null) {
                    atLimit(true);
                    return;
                }
                table.alias(subject, ev);
                if (engine instanceof SSLEngine && ev.role.isEmpty()) {
                    // Netty sets the mode before it builds the handler; a server's handshake may never begin
                    ev.role = ((SSLEngine) engine).getUseClientMode() ? "CLIENT" : "SERVER";
                }
                return;
            }
            case Hooks.NETTY_HANDLER_ADDED: {
                Evidence ev = table.get(subject);
                Object channel = NettyAccess.channel(argument);
                if (ev != null && channel != null) {
                    ev.nettyChannel = new java.lang.ref.WeakReference<>(channel);
                    table.alias(channel, ev);
                    Object javaChannel = NettyAccess.javaChannel(channel);
                    if (javaChannel != null) {
                        // its read and write failures are this connection's, whichever thread sees them
                        table.alias(javaChannel, ev);
                    }
                }
                return;
            }
            case Hooks.NETTY_CHANNEL_PEER_EOF: {
                Evidence ev = table.get(subject);
                if (ev != null) {
                    ev.nettyPeerEof = true;
                }
                return;
            }
            case Hooks.NETTY_CHANNEL_CLOSING: {
                Evidence ev = table.get(subject);
                if (ev == null) {
                    return;
                }
                if (!ev.nettyPeerEof) {
                    ev.nettyClosedBelow = true;
                }
                synchronized (ev) {
                    if (awaitingFlush(ev) && !ev.emitted && NettyAccess.pendingOutboundBytes(subject) > 0) {
                        // SslHandler gave up flushing its close_notify (closeNotifyFlushTimeoutMillis) and
                        // force-closes the channel: the peer never gets it
                        ev.closeNotifySent = false;
                        ev.verdict = Classifier.closeAfterTimeout();
                        ev.endNanos = System.nanoTime();
                    }
                    ev.nettyChannelClosing = true;
                }
                if (ev.activeCalls == 0) {
                    emit(ev);
                }
                return;
            }
            case Hooks.NETTY_CONTEXT_HANDSHAKE_FAILURE:
                // SslUtils knows only the handler's context
                subject = NettyAccess.handler(subject);
                event = Hooks.NETTY_HANDSHAKE_FAILURE;
                break;
            default:
                break;
        }
        Evidence ev = subject == null ? null : table.get(subject);
        if (ev == null) {
            return;
        }
        if (!ev.started && (event == Hooks.NETTY_HANDSHAKE_FAILURE || event == Hooks.NETTY_EXCEPTION)) {
            // the handler was waiting for a handshake: a timeout or garbage ends a real connection attempt
            markStarted(ev, subject);
        }
        if (!ev.started) {
            return;
        }
        switch (event) {
            case Hooks.NETTY_CLOSING:
                ev.localClosing = true;
                return;
            case Hooks.NETTY_EXCEPTION: {
                Throwable cause = (Throwable) argument;
                Verdict v = Classifier.transportFailure(TransportFailure.of(cause), ev.localClosing);
                if (v == null && !ev.localClosing && hasSslException(cause)) {
                    // not decided by the engine (e.g. NotSslRecordException before any engine call): no alert
                    v = Classifier.fatalWithoutAlert("");
                }
                showApplication(ev, Ending.SAW_EXCEPTION, cause);
                decide(ev, v);
                return;
            }
            case Hooks.NETTY_HANDSHAKE_FAILURE: {
                Throwable cause = (Throwable) argument;
                Verdict v = null;
                if (cause != null && cause.getClass().getName().endsWith(".SslHandshakeTimeoutException")) {
                    v = Classifier.closeAfterTimeout();
                } else if (ev.verdict == null && !ev.localClosing && hasSslException(cause)) {
                    // not decided by the engine (NotSslRecordException comes before any engine call): no alert
                    v = Classifier.fatalWithoutAlert("");
                }
                if (v != null) {
                    showApplication(ev, Ending.SAW_EXCEPTION, cause);
                    decide(ev, v);
                }
                return;
            }
            case Hooks.NETTY_INACTIVE: {
                if (ev.verdict != null) {
                    ev.nettyChannelClosing = true;
                    if (ev.activeCalls == 0) {
                        emit(ev);
                    }
                    return;
                }
                Verdict v;
                Throwable failure = ev.transportFailure;
                Verdict failed = failure == null ? null
                        : Classifier.transportFailure(TransportFailure.of(failure), false);
                if (failed != null) {
                    // a write failed below the handler (Netty closes the channel without exceptionCaught)
                    showApplication(ev, Ending.SAW_EXCEPTION, failure);
                    decide(ev, failed);
                    return;
                }
                if (ev.nettyPeerEof) {
                    boolean partial = ev.partialRecordBytes > 0 || NettyAccess.bufferedBytes(subject) > 0;
                    v = Classifier.peerEof(partial);
                } else if (ev.nettyClosedBelow || ev.localClosing) {
                    v = Classifier.closeWithoutCloseNotify();
                } else {
                    // a transport this agent does not watch (epoll, io_uring): the channel ended, cause unseen
                    v = Verdict.of(Outcome.TRUNCATED, Initiator.UNKNOWN);
                }
                showApplication(ev, Ending.SAW_EOF, null);
                decide(ev, v);
                return;
            }
            case Hooks.NETTY_REMOVED:
                if (ev.verdict == null) {
                    decide(ev, Classifier.closeWithoutCloseNotify());
                }
                return;
            default:
                return;
        }
    }

    private static boolean hasSslException(Throwable t) {
        for (int i = 0; t != null && i < 10; t = t.getCause(), i++) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    /** What the application's pipeline was shown, unless something earlier already was. */
    private static void showApplication(Evidence ev, String what, Throwable thrown) {
        synchronized (ev) {
            if (ev.appSaw == null && !ev.emitted) {
                ev.appSaw = what;
                if (thrown != null) {
                    ev.exception = describe(thrown);
                }
            }
        }
    }

    @Override
    public void channelFailed(Object channel, Throwable thrown) {
        Evidence owner = table.get(channel);
        if (owner != null) {
            if (owner.transportFailure == null && !owner.localClosing) {
                owner.transportFailure = thrown;
            }
            return;
        }
        ThreadState ts = threads.get();
        ts.channelFailure = thrown;
        ts.failedChannel = channel;
        ts.channelFailureNanos = System.nanoTime();
    }

}
