package dev.tlsautopsy.bootstrap;

import java.nio.ByteBuffer;

/**
 * What the hooks report. Implemented in the agent's own class loader; this interface lives on the
 * boot class path so that advice inlined into {@code java.base} can reach it. Only exported types
 * appear in the signatures.
 */
public interface Sink {

    // ---- JSSE funnels (TransportContext, records, alerts) ----

    /** Whether advice should hand over a lookup created inside a {@code sun.security.ssl} class. */
    boolean needsJsseLookup();

    /** A {@code MethodHandles.Lookup} created by advice inlined into a {@code sun.security.ssl} class. */
    void jsseLookup(Object lookup);

    void handshakeStarting(Object transport);

    void handshakeFinished(Object transport, Object session);

    Object enterAlertScope(Object transport);

    void exitAlertScope(Object previous);

    /** An alert is about to be written (the record is open); returns a token for {@link #alertEncoded}. */
    Object alertEncoding();

    void alertEncoded(Object token, int level, int description, Throwable thrown);

    void alertReceived(Object transportContext, ByteBuffer message);

    void fatal(Object transport, Object alert, Throwable cause, boolean receivedFatalAlert, boolean alreadyClosed);

    void fatalDone(Object transport);

    void recordEof(boolean midRecord);

    void peerEof(Object transport);

    // ---- application-facing calls: enter returns the connection's evidence (or null) ----

    Object callEnter(Object transport, int call);

    void callExit(Object evidence, int call, long result, Throwable thrown);

    void engineResult(Object transport, Object evidence, int call, Object result, ByteBuffer[] sources, int offset, int length, Throwable thrown);

    // ---- Netty: events of an SslHandler or its channel (Hooks.NETTY_*) ----

    void netty(int event, Object subject, Object argument);

    // ---- any other SSLEngine: enter returns a token for exit (null for a nested call) ----

    Object anyEngineEnter(Object engine, int call, Object sources);

    void anyEngineExit(Object token, Object result, Throwable thrown);

    // ---- transport below an SSLEngine ----

    void channelFailed(Object channel, Throwable thrown);
}
