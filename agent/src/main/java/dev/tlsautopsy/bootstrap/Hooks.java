package dev.tlsautopsy.bootstrap;

import java.nio.ByteBuffer;

/**
 * Static entry points called by the advice. Each forwards to the installed {@link Sink}, never
 * throws, and switches itself off after its first failure with one warning on stderr, so that a
 * broken hook costs the application nothing.
 */
public final class Hooks {

    /** Application-facing calls, passed to {@link Sink#callEnter} and {@link Sink#callExit}. */
    public static final int SOCKET_READ = 0, SOCKET_WRITE = 1, SOCKET_HANDSHAKE = 2, SOCKET_CLOSE = 3,
            SOCKET_SHUTDOWN_OUTPUT = 4, ENGINE_WRAP = 5, ENGINE_UNWRAP = 6, ENGINE_CLOSE_INBOUND = 7,
            ENGINE_CLOSE_OUTBOUND = 8, ENGINE_BEGIN_HANDSHAKE = 9, ENGINE_TASK = 10;

    /** Netty events, passed to {@link Sink#netty}: subject is the SslHandler, or the channel for the last two. */
    public static final int NETTY_HANDLER_CREATED = 0, NETTY_HANDLER_ADDED = 1, NETTY_CLOSING = 2,
            NETTY_INACTIVE = 3, NETTY_EXCEPTION = 4, NETTY_HANDSHAKE_FAILURE = 5, NETTY_REMOVED = 6,
            NETTY_CHANNEL_CLOSING = 7, NETTY_CHANNEL_PEER_EOF = 8, NETTY_CONTEXT_HANDSHAKE_FAILURE = 9;

    private static final String[] NAMES = {
        "handshakeStarting", "handshakeFinished", "enterAlertScope", "exitAlertScope", "alertEncoded",
        "alertEncoding",
        "alertReceived", "fatal", "fatalDone", "recordEof", "peerEof", "callEnter", "callExit",
        "engineResult", "channelFailed", "netty", "anyEngineEnter", "anyEngineExit", "jsseLookup"
    };
    private static final boolean[] OFF = new boolean[NAMES.length];

    private static volatile Sink sink;

    private Hooks() {
    }

    public static void install(Sink s) {
        sink = s;
    }

    public static boolean installed() {
        return sink != null;
    }

    private static void failed(int hook, Throwable t) {
        synchronized (OFF) {
            if (OFF[hook]) {
                return;
            }
            OFF[hook] = true;
        }
        try {
            System.err.println("tls-autopsy: hook " + NAMES[hook] + " failed and is now disabled: " + t);
        } catch (Throwable ignored) {
            // nothing more can be done
        }
    }

    /** Cheap check for advice: hand over a JSSE lookup only while none has been taken. */
    public static boolean needsJsseLookup() {
        Sink s = sink;
        if (s == null || OFF[18]) return false;
        try { return s.needsJsseLookup(); } catch (Throwable t) { failed(18, t); return false; }
    }

    public static void jsseLookup(Object lookup) {
        Sink s = sink;
        if (s == null || OFF[18]) return;
        try { s.jsseLookup(lookup); } catch (Throwable t) { failed(18, t); }
    }

    public static void handshakeStarting(Object transport) {
        Sink s = sink;
        if (s == null || OFF[0]) return;
        try { s.handshakeStarting(transport); } catch (Throwable t) { failed(0, t); }
    }

    public static void handshakeFinished(Object transport, Object session) {
        Sink s = sink;
        if (s == null || OFF[1]) return;
        try { s.handshakeFinished(transport, session); } catch (Throwable t) { failed(1, t); }
    }

    public static Object enterAlertScope(Object transport) {
        Sink s = sink;
        if (s == null || OFF[2]) return null;
        try { return s.enterAlertScope(transport); } catch (Throwable t) { failed(2, t); return null; }
    }

    public static void exitAlertScope(Object previous) {
        Sink s = sink;
        if (s == null || OFF[3]) return;
        try { s.exitAlertScope(previous); } catch (Throwable t) { failed(3, t); }
    }

    public static Object alertEncoding() {
        Sink s = sink;
        if (s == null || OFF[5]) return null;
        try { return s.alertEncoding(); } catch (Throwable t) { failed(5, t); return null; }
    }

    public static void alertEncoded(Object token, int level, int description, Throwable thrown) {
        Sink s = sink;
        if (s == null || token == null || OFF[4]) return;
        try { s.alertEncoded(token, level, description, thrown); } catch (Throwable t) { failed(4, t); }
    }

    public static void alertReceived(Object transportContext, ByteBuffer message) {
        Sink s = sink;
        if (s == null || OFF[6]) return;
        try { s.alertReceived(transportContext, message); } catch (Throwable t) { failed(6, t); }
    }

    public static void fatal(Object transport, Object alert, Throwable cause, boolean received, boolean alreadyClosed) {
        Sink s = sink;
        if (s == null || OFF[7]) return;
        try { s.fatal(transport, alert, cause, received, alreadyClosed); } catch (Throwable t) { failed(7, t); }
    }

    public static void fatalDone(Object transport) {
        Sink s = sink;
        if (s == null || OFF[8]) return;
        try { s.fatalDone(transport); } catch (Throwable t) { failed(8, t); }
    }

    public static void recordEof(boolean midRecord) {
        Sink s = sink;
        if (s == null || OFF[9]) return;
        try { s.recordEof(midRecord); } catch (Throwable t) { failed(9, t); }
    }

    public static void peerEof(Object transport) {
        Sink s = sink;
        if (s == null || OFF[10]) return;
        try { s.peerEof(transport); } catch (Throwable t) { failed(10, t); }
    }

    public static Object callEnter(Object transport, int call) {
        Sink s = sink;
        if (s == null || OFF[11]) return null;
        try { return s.callEnter(transport, call); } catch (Throwable t) { failed(11, t); return null; }
    }

    public static void callExit(Object evidence, int call, long result, Throwable thrown) {
        Sink s = sink;
        if (s == null || evidence == null || OFF[12]) return;
        try { s.callExit(evidence, call, result, thrown); } catch (Throwable t) { failed(12, t); }
    }

    public static void engineResult(Object transport, Object evidence, int call, Object result, ByteBuffer[] sources,
                                    int offset, int length, Throwable thrown) {
        Sink s = sink;
        if (s == null || OFF[13]) return;
        try { s.engineResult(transport, evidence, call, result, sources, offset, length, thrown); } catch (Throwable t) { failed(13, t); }
    }

    public static void netty(int event, Object subject, Object argument) {
        Sink s = sink;
        if (s == null || subject == null || OFF[15]) return;
        try { s.netty(event, subject, argument); } catch (Throwable t) { failed(15, t); }
    }

    public static Object anyEngineEnter(Object engine, int call, Object sources) {
        Sink s = sink;
        if (s == null || OFF[16]) return null;
        try { return s.anyEngineEnter(engine, call, sources); } catch (Throwable t) { failed(16, t); return null; }
    }

    public static void anyEngineExit(Object token, Object result, Throwable thrown) {
        Sink s = sink;
        if (s == null || OFF[17]) return;
        try { s.anyEngineExit(token, result, thrown); } catch (Throwable t) { failed(17, t); }
    }

    public static void channelFailed(Object channel, Throwable thrown) {
        Sink s = sink;
        if (s == null || thrown == null || OFF[14]) return;
        try { s.channelFailed(channel, thrown); } catch (Throwable t) { failed(14, t); }
    }
}
