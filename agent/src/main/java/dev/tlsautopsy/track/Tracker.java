package dev.tlsautopsy.track;

import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.ExceptionText;
import dev.tlsautopsy.classify.Publisher;
import dev.tlsautopsy.classify.TransportFailure;
import dev.tlsautopsy.classify.Verdict;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The core, which knows no TLS stack: it keeps each connection's {@link Evidence} (found by any of the
 * objects the connection is seen through), lets the first decisive event in time set the verdict, and
 * emits exactly one {@link Ending} per started connection: at the exit of the application call that
 * observed the decisive event (so the record knows what the application saw), at once when no
 * application call is under way, when the connection is garbage-collected, or at JVM exit.
 */
public final class Tracker implements java.util.function.LongSupplier {

    /**
     * Connections tracked at once (live TLS objects not yet collected): a connection opened beyond it is
     * not recorded, counted in {@link #untracked}, warned about once.
     */
    public static final int MAX_TRACKED = Integer.getInteger("tlsautopsy.maxTracked", 500_000);
    private static final long CHANNEL_FAILURE_TTL_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** A failure of a channel no connection claims, handed to the engine the same thread closes next. */
    private static final class ChannelFailure {
        Throwable thrown;
        long at;
    }

    private final ConnectionTable table = new ConnectionTable(MAX_TRACKED);
    private final PeerActivityWatch peerActivity = new PeerActivityWatch();
    private final AtomicLong untracked = new AtomicLong();
    private final AtomicBoolean limitWarned = new AtomicBoolean();
    private final ThreadLocal<ChannelFailure> channelFailures = new ThreadLocal<>() {
        @Override
        protected ChannelFailure initialValue() {
            return new ChannelFailure();
        }
    };
    private final AtomicLong startedCount = new AtomicLong();
    private final AtomicLong endedCount = new AtomicLong();
    private final DataClock dataClock = new DataClock();
    private final Publisher publisher;

    public Tracker(Publisher publisher) {
        this.publisher = publisher;
        Thread reaper = new Thread(new Runnable() {
            @Override
            public void run() {
                reap();
            }
        }, "tls-autopsy-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    /** Connections that started and have not ended yet. */
    public long open() {
        return startedCount.get() - endedCount.get();
    }

    /** {@link #open()}, for the outputs. */
    @Override
    public long getAsLong() {
        return open();
    }

    /** Connections not recorded because the tracking limit was reached. */
    public long untracked() {
        return untracked.get();
    }

    // ---------------------------------------------------------------- evidence

    /**
     * Objects that remember their connection in a field of their own (the one the weaver adds, {@link
     * dev.tlsautopsy.instrument.Value#remembered()}): asked before the connection table, which a new or a
     * cooled connection's lookup walks through memory other threads write.
     */
    public interface Memory {
        /** What {@code key} remembers; null if nothing yet, or if it is not an object that remembers. */
        Object recall(Object key);

        /** Makes {@code key} remember {@code ev} unless it has one; false if it is not an object that remembers. */
        boolean keep(Object key, Evidence ev);
    }

    private static final Memory NO_MEMORY = new Memory() {
        @Override
        public Object recall(Object key) {
            return null;
        }

        @Override
        public boolean keep(Object key, Evidence ev) {
            return false;
        }
    };

    private volatile Memory memory = NO_MEMORY;

    /** The objects that remember their connection (one stack's; set once). */
    public void remembering(Memory m) {
        memory = m;
    }

    /** The evidence {@code key} leads to, or null. */
    public Evidence find(Object key) {
        if (key == null) {
            return null;
        }
        Object kept = memory.recall(key);
        return kept instanceof Evidence ? (Evidence) kept : table.get(key);
    }

    /**
     * The evidence of {@code key}, created when new (null at the tracking limit). {@code born}: the call
     * where a connection begins. Once the limit has refused (and counted) a connection, evidence is
     * created only there: a connection first seen later may be a refused one, which must not be
     * recorded as well as counted missed.
     */
    public Evidence track(Object key, Owner owner, String api, boolean born) {
        Memory m = memory;
        Object kept = m.recall(key);
        if (kept instanceof Evidence || key == null) {
            return (Evidence) kept;
        }
        // both walk the chain without the lock first: a new connection's key is looked for once, not twice
        Evidence found;
        if (!born && untracked.get() > 0) {
            found = table.get(key);
            if (found == null) {
                return null;
            }
        } else {
            found = table.getOrCreate(key, owner, api);
            if (found == null) {
                atLimit(false);
                return null;
            }
        }
        m.keep(key, found);
        return found;
    }

    /**
     * A connection whose record is out leaves the table if {@code key}, its object there, remembers it: then
     * nothing is left for the table to do (no later hook needs it, no collection of the object needs
     * noticing), and its entry would otherwise stay reachable until the reaper unlinks it after the object
     * is collected, making the collector copy the entry and the evidence and process its reference.
     */
    public void leaveTable(Object key, Evidence ev) {
        if (!ev.emitted || ev.leftTable || key == null || memory.recall(key) != ev) {
            return;
        }
        ev.leftTable = true;
        table.remove(key, ev);
    }

    /** A connection that began was refused at the tracking limit: it is counted as not recorded. */
    public void refused() {
        atLimit(true);
    }

    private void atLimit(boolean count) {
        if (count) {
            untracked.incrementAndGet();
        }
        if (limitWarned.compareAndSet(false, true)) {
            System.err.println("tls-autopsy: " + table.size() + " connections tracked, the limit (tlsautopsy.maxTracked="
                    + MAX_TRACKED + "); connections opened beyond it are not recorded; this warning is not repeated");
        }
    }

    /** Makes {@code key} lead to {@code ev} too (one connection seen through several objects). */
    public void alias(Object key, Evidence ev) {
        if (!memory.keep(key, ev)) {
            table.alias(key, ev);
        }
    }

    /**
     * An engine's connection turns out to belong to a stack above it (a Netty handler created before an
     * attach, met only when it ends): its record becomes that stack's, unless it was already written.
     */
    public boolean promote(Evidence ev, Owner owner, String api) {
        String from;
        synchronized (ev) {
            if (ev.emitted) {
                return false;
            }
            from = ev.api;
            ev.owner = owner;
            ev.api = api;
        }
        if (ev.started && !from.equals(api)) {
            publisher.moved(from, api);
        }
        return true;
    }

    /** Whether the agent was attached to a running JVM (connections may predate it). */
    public volatile boolean attached;

    /** The connection has begun: from now on it gets exactly one record. */
    public void start(Evidence ev, Object transport) {
        if (ev.started) {
            return;
        }
        synchronized (ev) {
            if (ev.started) {
                return;
            }
            ev.started = true;
        }
        if (startedCount.incrementAndGet() == 1) {
            dev.tlsautopsy.StartupTiming.mark("first connection");
        }
        ev.publisherToken = publisher.started(ev.api);
        ev.owner.describe(ev, transport);
    }

    /** Application data moved on {@code ev} now (to within the {@link DataClock}'s tick): it is not idle. */
    public void dataMoved(Evidence ev) {
        ev.dataMoved(dataClock.now());
    }

    /** Application data arrived on {@code ev} now: what the peer did while it idled was not its ending. */
    public void dataReceived(Evidence ev) {
        ev.dataReceived(dataClock.now());
    }

    // ---------------------------------------------------------------- deciding and emitting

    /**
     * A decisive event now; one of the peer's (its alert, its FIN, its reset) found by a blocking read is
     * dated when the kernel first showed the peer acting while the connection idled, if it did.
     */
    public void decide(Evidence ev, Verdict v) {
        long signal = ev == null ? 0 : ev.peerSignalNanos;
        decide(ev, v, v != null && v.initiator() == dev.tlsautopsy.classify.Initiator.PEER && signal != 0
                ? signal : System.nanoTime());
    }

    /** A connection nobody may read while it idles (a blocking socket): watch the kernel's view of it. */
    public void watchWhileIdle(Evidence ev) {
        peerActivity.watch(ev);
    }

    /** A decision dated less than this before it is made was made by what happened now, not back-dated. */
    private static final long AT_ONCE = TimeUnit.MILLISECONDS.toNanos(1);

    /**
     * The first decisive event in time wins: an event that happened before the current verdict's
     * (its hook ran later, e.g. after a socket write) replaces it while it is not emitted yet.
     */
    public void decide(Evidence ev, Verdict v, long at) {
        if (v == null || ev == null || !ev.started) {
            return;
        }
        synchronized (ev) {
            if (ev.emitted || (ev.verdict != null && ev.endNanos <= at)) {
                return;
            }
            ev.verdict = v;
            ev.endNanos = at;
            ev.idleNanos = idle(ev, at);
            if (ev.activeCalls > 0 && ev.noticedNanos == 0
                    && (v.initiator() == dev.tlsautopsy.classify.Initiator.LOCAL || System.nanoTime() - at < AT_ONCE)) {
                // this side's own call (a close sending close_notify, a failing write) was the event, or a
                // call under way (a blocked read) met the peer's ending now: it is shown at once, however
                // long its thread then waits to run
                ev.noticedNanos = at;
            }
        }
        if (ev.adopted) {
            if (ev.activeCalls == 0) {
                inFlight(ev, v);
            }
            hold(ev);
        }
        if (ev.activeCalls == 0) {
            emit(ev);
        }
    }

    private static long idle(Evidence ev, long at) {
        long last = ev.lastDataNanos;
        if (last > at && ev.peerSignalNanos == at) {
            last = ev.lastDataBeforeSignal;     // data the application sent after the peer had ended it
        }
        return ev.handshakeCompleted && last != 0 ? Math.max(0, at - last) : -1;
    }

    /** Whether a session's cipher suite is one a handshake negotiated (not the placeholder of a new session). */
    public static boolean negotiated(String cipherSuite) {
        return cipherSuite != null && !cipherSuite.isEmpty() && !cipherSuite.contains("NULL_WITH_NULL");
    }

    /** Replaces a verdict not emitted yet: what a held record turned out to be. */
    public void revise(Evidence ev, Verdict v) {
        synchronized (ev) {
            if (!ev.emitted) {
                ev.verdict = v;
                ev.endNanos = System.nanoTime();
                ev.idleNanos = idle(ev, ev.endNanos);
            }
        }
    }

    /** Emits a decided connection's record unless its owner holds it back. */
    public void emit(Evidence ev) {
        emit(ev, false);
    }

    /**
     * A connection adopted at an attach decided inside an application call that began before the attach
     * (a reader blocked in read then): that call shows the application the ending.
     */
    private void inFlight(Evidence ev, Verdict v) {
        String call = ev.owner.callInFlight(ev);
        if (call == null) {
            return;
        }
        boolean eof = "read".equals(call) && (v.outcome() == dev.tlsautopsy.classify.Outcome.CLEAN
                || v.outcome() == dev.tlsautopsy.classify.Outcome.TRUNCATED)
                && !Boolean.getBoolean("com.sun.net.ssl.requireCloseNotify");
        show(ev, eof ? Ending.SAW_EOF : Ending.SAW_EXCEPTION, (String) null);
    }

    /**
     * An adopted connection's record waits a moment, as it would wait for the end of a call the agent saw
     * begin: for what the stack does next (its own close_notify, the write that names its channel) and for
     * a framework above the engine (Netty's SslHandler, met only now) to claim it.
     */
    private void hold(Evidence ev) {
        if (held.putIfAbsent(ev, System.nanoTime() + HOLD_IN_FLIGHT_NANOS) == null) {
            startHeldEmitter();
        }
    }

    private static final long HOLD_IN_FLIGHT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /**
     * Held records and when their wait ends. Holding is rare (attach, a linked channel's close), so the
     * deadline lives here rather than in every connection's evidence.
     */
    private final java.util.concurrent.ConcurrentHashMap<Evidence, Long> held = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Thread heldEmitter;

    /** Emits held records once their wait is over (a thread started on first use). */
    private void startHeldEmitter() {
        if (heldEmitter != null) {
            return;
        }
        synchronized (held) {
            if (heldEmitter != null) {
                return;
            }
            Thread t = AgentThreads.daemon(() -> {
                while (true) {
                    try {
                        Thread.sleep(50);
                        long now = System.nanoTime();
                        for (java.util.Map.Entry<Evidence, Long> e : held.entrySet()) {
                            Evidence ev = e.getKey();
                            if (ev.emitted || now - e.getValue() >= 0) {
                                held.remove(ev);
                                if (ev.activeCalls == 0) {
                                    emit(ev);
                                }
                            }
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (Throwable t2) {
                        // keep emitting; a failure here must not stop the thread
                    }
                }
            }, "tls-autopsy-held");
            t.start();
            heldEmitter = t;
        }
    }

    private void emit(Evidence ev, boolean force) {
        if (!force && !held.isEmpty()) {
            Long until = held.get(ev);
            if (until != null && System.nanoTime() - until < 0) {
                return;
            }
        }
        if (ev.localPort < 0 && ev.started && !ev.emitted) {
            // a connection described before its transport was connected (a Netty client's handler is added
            // first): its owner may know the ports now
            try {
                ev.owner.describe(ev, null);
            } catch (RuntimeException ignored) {
                // the ports stay unknown
            }
        }
        Ending ending;
        synchronized (ev) {
            if (ev.emitted || ev.verdict == null || !ev.started || (!force && ev.owner.holds(ev))) {
                return;
            }
            ev.emitted = true;
            Verdict v = ev.verdict;
            ending = new Ending(ev.id, v.outcome(), v.initiator(), ev.handshakeCompleted, ev.closeNotifySent,
                    ev.closeNotifyReceived, v.alert(), v.alertDirection(),
                    ev.appSaw == null ? Ending.SAW_NOTHING : ev.appSaw, ev.exception == null ? "" : ev.exception,
                    ev.api, ev.implementation, ev.role, ev.peerHost, ev.peerPort, ev.localPort, ev.protocol,
                    ev.cipherSuite, ev.adopted ? -1 : ev.bytesIn, ev.adopted ? -1 : ev.bytesOut,
                    ev.adopted ? -1 : TimeUnit.NANOSECONDS.toMillis(ev.endNanos - ev.startNanos),
                    ev.idleNanos < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(ev.idleNanos), noticedAfter(ev));
        }
        endedCount.incrementAndGet();
        Object token = ev.publisherToken;
        ev.publisherToken = null;
        publisher.ended(ending, token);
        if (ev.id <= 2) {
            dev.tlsautopsy.StartupTiming.mark("record emitted");
        }
    }

    /**
     * How long after the decisive event the application noticed it: 0 when its own call was the event or
     * saw it at once, -1 when it never noticed before the record (a leak, a connection collected).
     */
    private static long noticedAfter(Evidence ev) {
        if (ev.noticedNanos == 0 || ev.verdict.outcome() == dev.tlsautopsy.classify.Outcome.ABANDONED) {
            return -1;
        }
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(ev.noticedNanos - ev.endNanos));
    }

    private static void noticed(Evidence ev) {
        if (ev.noticedNanos == 0) {
            ev.noticedNanos = System.nanoTime();
        }
    }

    /** What the application was shown, unless something earlier already was. */
    public void show(Evidence ev, String what, Throwable thrown) {
        show(ev, what, thrown == null ? null : ExceptionText.of(thrown));
    }

    /** As {@link #show(Evidence, String, Throwable)}, with the exception already described. */
    public void show(Evidence ev, String what, String exception) {
        synchronized (ev) {
            if (ev.appSaw == null && !ev.emitted) {
                ev.appSaw = what;
                if (exception != null) {
                    ev.exception = exception;
                }
                noticed(ev);
            }
        }
    }

    /** An application call returned: if the connection is decided, the record says what the call showed. */
    public void finishCall(Evidence ev, boolean sawEof, Throwable thrown) {
        if (ev.verdict == null || ev.emitted) {
            return;
        }
        noticed(ev);
        // a linked channel's -1 was the application's own EOF
        boolean eof = sawEof || ev.transportEofNanos != 0;
        show(ev, thrown != null ? Ending.SAW_EXCEPTION : eof ? Ending.SAW_EOF : Ending.SAW_NOTHING, thrown);
        emit(ev);
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

    // ---------------------------------------------------------------- the transport below an engine

    /**
     * A read or write failed on a channel. A connection that claims the channel keeps its first failure
     * before any local close; otherwise the failure waits on this thread for the engine it closes next.
     */
    public void channelFailed(Object channel, Throwable thrown) {
        Evidence owner = find(channel);
        if (owner != null && owner.linked && !owner.layered) {
            // the engine's own transport: the failure ends it now (its close later is the echo)
            if (owner.started) {
                // the application is shown this, whether it ends the connection now or comes after a
                // local close of the channel (a reader still in it)
                show(owner, Ending.SAW_EXCEPTION, thrown);
                if (owner.verdict == null) {
                    // what the application does next (closing the engine, with close_notify) still counts
                    hold(owner);
                    decide(owner, Classifier.transportFailure(TransportFailure.of(thrown), owner.localClosing));
                }
            }
            return;
        }
        if (owner != null) {
            if (owner.transportFailure == null && !owner.localClosing) {
                owner.transportFailure = thrown;
            }
            return;
        }
        ChannelFailure f = channelFailures.get();
        f.thrown = thrown;
        f.at = System.nanoTime();
    }

    /** The channel failure this thread saw last (within 10 s), taken: it belongs to one engine only. */
    public Throwable takeChannelFailure() {
        ChannelFailure f = channelFailures.get();
        Throwable t = f.thrown;
        f.thrown = null;
        if (t != null && System.nanoTime() - f.at > CHANNEL_FAILURE_TTL_NANOS) {
            return null;
        }
        return t;
    }

    /** The channel below an engine failed and the application now closes the engine: that failure ended it. */
    public void chargeChannelFailure(Evidence ev, Throwable failure) {
        Verdict v = failure == null ? null : Classifier.transportFailure(TransportFailure.of(failure), false);
        if (v != null && ev.started) {
            show(ev, Ending.SAW_EXCEPTION, failure);
            decide(ev, v);
        }
    }

    // ---------------------------------------------------------------- a channel linked to an engine

    private final ChannelLinks links = new ChannelLinks();

    /**
     * An engine of {@code ev} (not layered under a handler that owns its channel) wrapped {@code produced}
     * bytes into {@code dst}: a channel that writes them is its transport.
     */
    public void wrapped(Evidence ev, Object dst, int produced) {
        if (!ev.linked && ev.linkOffers < ChannelLinks.OFFERS_PER_ENGINE && dst instanceof java.nio.ByteBuffer) {
            links.offer((java.nio.ByteBuffer) dst, produced, ev);
        }
    }

    /**
     * A channel writes {@code src} (a buffer or an array of them): if an engine wrapped into it, the
     * channel is that engine's transport from now on. Returns that connection, or null.
     */
    public Evidence channelWrites(Object channel, Object src) {
        Evidence ev = links.owner(src);
        if (ev != null && !ev.linked && !ev.layered) {
            alias(channel, ev);
            ev.linked = true;
        }
        return ev;
    }

    /** A read on a channel returned -1: the engine linked to it has its peer's EOF (decided when it ends). */
    public void channelEof(Object channel) {
        Evidence ev = find(channel);
        if (ev != null && ev.linked && !ev.layered && ev.transportEofNanos == 0) {
            ev.transportEofNanos = System.nanoTime();
        }
    }

    /**
     * The application closes an engine whose channel reached EOF before any close_notify: the peer's EOF
     * ended it then (the application saw the -1 then). Returns whether that decided it.
     */
    public boolean transportEnded(Evidence ev) {
        long eof = ev.transportEofNanos;
        if (eof == 0 || !ev.started || ev.verdict != null || ev.closeNotifyReceived) {
            return false;
        }
        synchronized (ev) {
            if (ev.noticedNanos == 0 && !ev.emitted) {
                // the application saw its channel's -1 then; what the close call now shows is the record's
                ev.noticedNanos = eof;
            }
        }
        decide(ev, Classifier.peerEof(ev.partialRecordBytes > 0), eof);
        return true;
    }

    /**
     * A linked channel closes: an EOF read before decides its engine; otherwise TLS was closed below.
     * {@code remembered}: what the channel remembers, if its hook could pass it.
     */
    public void channelClosing(Object channel, Object remembered) {
        Evidence ev = remembered instanceof Evidence ? (Evidence) remembered : find(channel);
        if (ev == null || !ev.linked || ev.layered) {
            return;
        }
        ev.transportClosed = true;
        if (!ev.started || ev.verdict != null) {
            return;
        }
        // the record waits a moment for what the application does next with the engine (and shows it)
        hold(ev);
        if (transportEnded(ev)) {
            show(ev, Ending.SAW_EOF, (String) null);
        } else {
            decide(ev, Classifier.closeWithoutCloseNotify());
        }
    }

    /** Where a linked channel's connection runs: the ports the engine itself could not know. */
    public static void describeChannel(Evidence ev, java.net.SocketAddress local, java.net.SocketAddress remote) {
        if (local instanceof java.net.InetSocketAddress && ev.localPort < 0) {
            ev.localPort = ((java.net.InetSocketAddress) local).getPort();
        }
        if (remote instanceof java.net.InetSocketAddress && (ev.peerHost.isEmpty() || ev.peerPort < 0)) {
            java.net.InetSocketAddress r = (java.net.InetSocketAddress) remote;
            if (ev.peerHost.isEmpty()) {
                ev.peerHost = r.getHostString();
            }
            if (ev.peerPort < 0) {
                ev.peerPort = r.getPort();
            }
        }
    }
}
