package dev.tlsautopsy.stack.jsse;

import static dev.tlsautopsy.instrument.Value.arg;
import static dev.tlsautopsy.instrument.Value.field;
import static dev.tlsautopsy.instrument.Value.remembered;
import static dev.tlsautopsy.instrument.Value.returned;
import static dev.tlsautopsy.instrument.Value.self;

import dev.tlsautopsy.instrument.HookSet;
import dev.tlsautopsy.instrument.HookSet.Methods;
import dev.tlsautopsy.instrument.HookSet.TypeHooks;
import dev.tlsautopsy.instrument.Stack;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Owner;
import dev.tlsautopsy.track.Tracker;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;

/**
 * The JDK's own TLS ({@code sun.security.ssl}): {@code SSLSocketImpl} and {@code SSLEngineImpl}, and what
 * they share: {@code TransportContext} (handshake start and end, fatal errors), the alerts read and
 * written, and {@code sun.nio.ch.SocketChannelImpl} failures below an engine. Every descriptor was checked
 * on JDK 17.0.15 and 25.0.3; the private fields read are named in {@link JsseAccess}.
 */
public final class JsseStack implements Stack, Owner {

    // TransportContext
    static final int KICKSTART = 0, FINISH_HANDSHAKE = 1, WARNING = 2, FATAL = 3;
    // alerts
    static final int ALERT_RECEIVED = 4, ALERT_SENT_BY_SOCKET = 5, ALERT_SENT_BY_ENGINE = 6;
    // SSLSocketImpl and its streams and record reader
    static final int SOCKET_EOF = 7, SOCKET_HANDSHAKE = 8, SOCKET_CLOSE = 9, SOCKET_SHUTDOWN_OUTPUT = 10,
            SOCKET_READ = 11, SOCKET_WRITE = 12, RECORD_HEADER = 13, RECORD_BODY = 14;
    // SSLEngineImpl
    static final int ENGINE_WRAP = 15, ENGINE_UNWRAP = 16, ENGINE_CLOSE_INBOUND = 17, ENGINE_CLOSE_OUTBOUND = 18,
            ENGINE_BEGIN_HANDSHAKE = 19, ENGINE_TASK = 20;
    // the channel below an engine
    static final int CHANNEL_FAILURE = 21, CHANNEL_READ = 22, CHANNEL_WRITE = 23, CHANNEL_CLOSE = 24;

    private final JsseAccess jsse = new JsseAccess();
    private JsseReading reading;

    @Override
    public void bind(Tracker tracker) {
        this.reading = new JsseReading(tracker, this, jsse);
    }

    @Override
    public String group() {
        return "jsse";
    }

    @Override
    public void declare(HookSet hooks) {
        // a connection's life: kickstart() starts every handshake, finishHandshake() ends it; fatal(Alert,
        // String, boolean, Throwable) is where the other fatal overloads end up, and warning(Alert) the
        // other place alerts are written from
        TypeHooks ctx = hooks.type("sun.security.ssl.TransportContext");
        ctx.method(KICKSTART, "kickstart", "()V").grantsLookup().enter(field("transport"));
        ctx.method(FINISH_HANDSHAKE, "finishHandshake", 0).exitOnReturn(field("transport"), field("conSession"));
        ctx.method(WARNING, "warning", 1).enter(field("transport")).exit();
        ctx.method(FATAL, "fatal", 4)
                .enter(field("transport"), arg(0), arg(3), field("closeReason"), arg(2))
                .exit(field("transport"));

        // every alert received, level and description at the buffer's position: the only reliable
        // close_notify-received signal (isInputCloseNotified is also set by the socket's EOF substitution)
        hooks.type("sun.security.ssl.Alert$AlertConsumer").method(ALERT_RECEIVED, "consume", 2)
                .grantsLookup().enter(arg(0), arg(1));
        // every alert written, unless the record is already closed (then it is dropped; OutputRecord declares isClosed)
        hooks.type("sun.security.ssl.SSLSocketOutputRecord").method(ALERT_SENT_BY_SOCKET, "encodeAlert", "(BB)V")
                .enter(field("isClosed", "Z")).exit(arg(0), arg(1));
        hooks.type("sun.security.ssl.SSLEngineOutputRecord").method(ALERT_SENT_BY_ENGINE, "encodeAlert", "(BB)V")
                .enter(field("isClosed", "Z"), field("isCloseWaiting")).exit(arg(0), arg(1));

        // the socket: every peer EOF funnels into handleEOF(EOFException), which by default makes it a
        // silent -1; the record reader's readHeader() (headerOff > 0 after a partial header) and
        // readFully(int) tell a record boundary from the middle of a record
        TypeHooks socket = hooks.type("sun.security.ssl.SSLSocketImpl");
        socket.method(SOCKET_EOF, "handleEOF", 1).grantsLookup().enter(self());
        // the socket remembers its connection's evidence (as the engine does), which its calls would
        // otherwise look up, at a cache miss or two each in a connection's short life
        socket.method(SOCKET_HANDSHAKE, "startHandshake", "()V").enter(self(), remembered()).exit();
        socket.method(SOCKET_CLOSE, "close", "()V").grantsLookup().enter(self(), remembered()).exit(self());
        socket.method(SOCKET_SHUTDOWN_OUTPUT, "shutdownOutput", "()V").enter(self()).exit();
        hooks.type("sun.security.ssl.SSLSocketImpl$AppInputStream").method(SOCKET_READ, "read", "([BII)I")
                .grantsLookup().enter(field("this$0")).exit(returned());
        hooks.type("sun.security.ssl.SSLSocketImpl$AppOutputStream").method(SOCKET_WRITE, "write", "([BII)V")
                .grantsLookup().enter(field("this$0")).exit(arg(2));
        TypeHooks record = hooks.type("sun.security.ssl.SSLSocketInputRecord");
        record.method(RECORD_HEADER, "readHeader", 0).exitOnThrow(field("headerOff"));
        record.method(RECORD_BODY, "readFully", 1).exitOnThrow();

        // the engine: every public wrap/unwrap overload funnels into the six-argument forms; the engine
        // remembers its connection's evidence, which a bulk transfer would otherwise look up on every call
        TypeHooks engine = hooks.type("sun.security.ssl.SSLEngineImpl");
        engine.method(ENGINE_WRAP, "wrap", 6).grantsLookup().enter(self(), remembered())
                .exit(self(), returned(), arg(3), arg(4));
        engine.method(ENGINE_UNWRAP, "unwrap", 6).grantsLookup().enter(self(), remembered())
                .exit(self(), returned(), arg(0), arg(1), arg(2));
        engine.method(ENGINE_CLOSE_INBOUND, "closeInbound", "()V").enter(self()).exit(self());
        engine.method(ENGINE_CLOSE_OUTBOUND, "closeOutbound", "()V").grantsLookup().enter(self()).exit(self());
        engine.method(ENGINE_BEGIN_HANDSHAKE, "beginHandshake", "()V").enter(self()).exit();
        // certificate checks fail in a delegated task, outside any wrap or unwrap
        hooks.type("sun.security.ssl.SSLEngineImpl$DelegatedTask").method(ENGINE_TASK, "run", "()V")
                .enter(field("engine")).exit();

        // the channel below an engine: its failures (reset, timeout through the socket adaptor, an
        // asynchronous close) in read/write (buffer and scattering forms), blockingRead, blockingWriteFully;
        // a write of what an engine wrapped links the channel to that engine, whose EOF (a read's -1) and
        // close are then the connection's
        TypeHooks channel = hooks.type("sun.nio.ch.SocketChannelImpl");
        // every NIO application calls these: they never wait for the agent's start
        channel.methods(CHANNEL_READ, Methods.named("read")).withoutStartWait()
                .exitOnThrowOrNegative(self(), returned());
        channel.methods(CHANNEL_WRITE, Methods.named("write")).withoutStartWait().enter(self(), arg(0)).exitOnThrow(self());
        channel.methods(CHANNEL_FAILURE, Methods.named("blockingRead", "blockingWriteFully")).exitOnThrow(self());
        // a linked channel remembers its engine's evidence instead of being another name in the table
        channel.method(CHANNEL_CLOSE, "implCloseSelectableChannel", "()V").withoutStartWait()
                .enter(self(), remembered());
    }

    @Override
    public String[] jdkClasses() {
        return new String[] {"sun.security.ssl.TransportContext", "sun.security.ssl.Alert$AlertConsumer",
            "sun.security.ssl.SSLSocketOutputRecord", "sun.security.ssl.SSLEngineOutputRecord",
            "sun.security.ssl.SSLSocketImpl", "sun.security.ssl.SSLSocketImpl$AppInputStream",
            "sun.security.ssl.SSLSocketImpl$AppOutputStream", "sun.security.ssl.SSLSocketInputRecord",
            "sun.security.ssl.SSLEngineImpl", "sun.security.ssl.SSLEngineImpl$DelegatedTask"};
    }

    @Override
    public boolean wantsLookup() {
        return jsse.needsLookup();
    }

    @Override
    public void lookup(Object lookup) {
        jsse.grant(lookup);
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        switch (hook) {
            case KICKSTART: reading.handshakeStarting(a); return null;
            case WARNING: return reading.enterAlertScope(a);
            case FATAL:
                reading.fatal(a, b, (Throwable) c, n != 0, d != null);
                return reading.enterAlertScope(a);
            case ALERT_RECEIVED: reading.alertReceived(a, (ByteBuffer) b); return null;
            case ALERT_SENT_BY_SOCKET: return n != 0 ? null : reading.alertEncoding();
            case ALERT_SENT_BY_ENGINE: return n != 0 || m != 0 ? null : reading.alertEncoding();
            case SOCKET_EOF: reading.peerEof(a); return null;
            case CHANNEL_WRITE: reading.channelWrites(a, b); return null;
            case CHANNEL_CLOSE: reading.channelClosing(a, b); return null;
            default: return reading.callEnter(a, hook, b);
        }
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        switch (hook) {
            case FINISH_HANDSHAKE: reading.handshakeFinished(a, b); return;
            case WARNING: reading.exitAlertScope(token); return;
            case FATAL:
                reading.exitAlertScope(token);
                reading.fatalDone(a);
                return;
            case ALERT_SENT_BY_SOCKET:
            case ALERT_SENT_BY_ENGINE:
                if (token != null) {
                    reading.alertEncoded((Evidence) token, (int) n, (int) m, thrown);
                }
                return;
            case RECORD_HEADER:
                if (thrown instanceof java.io.EOFException) {
                    reading.recordEof(n > 0);
                }
                return;
            case RECORD_BODY:
                if (thrown instanceof java.io.EOFException) {
                    reading.recordEof(true);
                }
                return;
            case CHANNEL_FAILURE:
            case CHANNEL_WRITE:
                if (thrown != null) {
                    reading.channelFailed(a, thrown);
                }
                return;
            case CHANNEL_READ:
                if (thrown != null) {
                    reading.channelFailed(a, thrown);
                } else if (n < 0) {
                    reading.channelEof(a);
                }
                return;
            case ENGINE_WRAP:
                reading.engineResult(a, (Evidence) token, hook, b, (ByteBuffer[]) c, (int) n, 1, thrown);
                reading.leaveTable(a, (Evidence) token);
                return;
            case ENGINE_UNWRAP:
                reading.engineResult(a, (Evidence) token, hook, b, (ByteBuffer[]) c, (int) n, (int) m, thrown);
                reading.leaveTable(a, (Evidence) token);
                return;
            default:
                if (token != null) {
                    reading.callExit((Evidence) token, hook, n, thrown);
                    // a: the socket or engine when the hook names it (close)
                    reading.leaveTable(a, (Evidence) token);
                }
        }
    }

    /** A connection object's api field: what the application holds. */
    static String api(Object transport) {
        return transport instanceof SSLSocket ? "SSLSocket" : transport instanceof SSLEngine ? "SSLEngine" : "";
    }

    /** The JDK socket's own application calls, by the frames a thread inside one shows. */
    private static final StackWalker WALKER = StackWalker.getInstance();

    @Override
    public String callInFlight(Evidence ev) {
        if (!"SSLSocket".equals(ev.api)) {
            return null;
        }
        return WALKER.walk(frames -> frames.map(f -> {
            String c = f.getClassName();
            if (c.equals("sun.security.ssl.SSLSocketImpl$AppInputStream") && f.getMethodName().equals("read")) {
                return "read";
            }
            if (c.equals("sun.security.ssl.SSLSocketImpl$AppOutputStream") && f.getMethodName().equals("write")) {
                return "write";
            }
            return null;
        }).filter(java.util.Objects::nonNull).findFirst().orElse(null));
    }

    @Override
    public void describe(Evidence ev, Object transport) {
        if (transport == null) {
            return;
        }
        if (ev.role.isEmpty()) {
            ev.role = jsse.role(transport);
        }
        if (transport instanceof SSLEngine && ev.role.isEmpty()) {
            ev.role = ((SSLEngine) transport).getUseClientMode() ? "CLIENT" : "SERVER";
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
}
