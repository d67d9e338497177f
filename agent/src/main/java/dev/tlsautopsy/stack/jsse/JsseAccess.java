package dev.tlsautopsy.stack.jsse;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Reads the few private JSSE fields the hooks cannot pass: a TransportContext's transport and
 * whether it runs as client. Checked on JDK 17.0.15 and 25.0.3: {@code TransportContext.transport},
 * {@code TransportContext.sslConfig}, {@code SSLConfiguration.isClientMode},
 * {@code SSLSocketImpl.conContext} and {@code SSLEngineImpl.conContext} have the same names and types.
 * Reading never takes a JSSE lock (the public getters do, and could deadlock a handshake).
 *
 * <p>Access comes from a {@link MethodHandles.Lookup} that advice inlined into a {@code sun.security.ssl}
 * class created there (it is that class's own full-privilege lookup), so no package is opened: opening
 * {@code sun.security.ssl} to the agent's module would open it to the whole application class path.
 * The fields are bound on first use, never at start-up: loading {@code SSLSocketImpl} early would make
 * its retransformation load its stream classes where the instrumentation cannot see them.
 */
final class JsseAccess {

    /**
     * The fields' handles, each a constant ({@code static final}) so that the JIT makes every read a plain
     * field load; through handles kept in instance fields each read took a dozen calls (in a profile of
     * SSLEngine churn, a tenth of the agent's samples). The class initialises on first use, which
     * {@link #bound()} allows only after the grant; null handles if they could not be bound.
     */
    private static final class Fields {
        private static final Object[] BOUND = bind(granted);
        static final boolean OK = BOUND != null;
        static final Class<?> SOCKET = (Class<?>) at(0);
        static final Class<?> ENGINE = (Class<?>) at(1);
        static final VarHandle TRANSPORT = (VarHandle) at(2);
        static final VarHandle SSL_CONFIG = (VarHandle) at(3);
        static final VarHandle IS_CLIENT_MODE = (VarHandle) at(4);
        static final VarHandle SOCKET_CONTEXT = (VarHandle) at(5);
        static final VarHandle ENGINE_CONTEXT = (VarHandle) at(6);
        static final VarHandle IS_NEGOTIATED = (VarHandle) at(7);
        static final VarHandle HANDSHAKE_CONTEXT = (VarHandle) at(8);
        static final VarHandle IS_BROKEN = (VarHandle) at(9);
        static final VarHandle IS_INPUT_CLOSE_NOTIFIED = (VarHandle) at(10);
        static final VarHandle CON_SESSION = (VarHandle) at(11);
        static final VarHandle OUTPUT_RECORD = (VarHandle) at(12);
        static final VarHandle OUTPUT_CLOSED = (VarHandle) at(13);

        private static Object at(int i) {
            return BOUND == null ? null : BOUND[i];
        }

        private static Object[] bind(MethodHandles.Lookup l) {
            try {
                dev.tlsautopsy.StartupTiming.mark("JSSE fields");
                Class<?> ctx = Class.forName("sun.security.ssl.TransportContext", false, null);
                Class<?> cfg = Class.forName("sun.security.ssl.SSLConfiguration", false, null);
                Class<?> socket = Class.forName("sun.security.ssl.SSLSocketImpl", false, null);
                Class<?> engine = Class.forName("sun.security.ssl.SSLEngineImpl", false, null);
                Class<?> out = Class.forName("sun.security.ssl.OutputRecord", false, null);
                MethodHandles.Lookup c = MethodHandles.privateLookupIn(ctx, l);
                Object[] bound = {
                    socket,
                    engine,
                    c.findVarHandle(ctx, "transport", Class.forName("sun.security.ssl.SSLTransport", false, null)),
                    c.findVarHandle(ctx, "sslConfig", cfg),
                    MethodHandles.privateLookupIn(cfg, l).findVarHandle(cfg, "isClientMode", boolean.class),
                    MethodHandles.privateLookupIn(socket, l).findVarHandle(socket, "conContext", ctx),
                    MethodHandles.privateLookupIn(engine, l).findVarHandle(engine, "conContext", ctx),
                    c.findVarHandle(ctx, "isNegotiated", boolean.class),
                    c.findVarHandle(ctx, "handshakeContext",
                            Class.forName("sun.security.ssl.HandshakeContext", false, null)),
                    c.findVarHandle(ctx, "isBroken", boolean.class),
                    c.findVarHandle(ctx, "isInputCloseNotified", boolean.class),
                    c.findVarHandle(ctx, "conSession", Class.forName("sun.security.ssl.SSLSessionImpl", false, null)),
                    c.findVarHandle(ctx, "outputRecord", out),
                    MethodHandles.privateLookupIn(out, l).findVarHandle(out, "isClosed", boolean.class),
                };
                dev.tlsautopsy.StartupTiming.mark("JSSE fields done");
                return bound;
            } catch (Throwable t) {
                System.err.println("tls-autopsy: cannot read JSSE state (" + t + "); roles will be empty");
                return null;
            }
        }
    }

    /** The JSSE lookup, one per JVM (the JDK's classes are), handed over once. */
    private static volatile MethodHandles.Lookup granted;

    /** True until a JSSE class's own lookup has been handed over. */
    boolean needsLookup() {
        return granted == null;
    }

    /** Takes the lookup that advice created inside a {@code sun.security.ssl} class. */
    void grant(Object lookup) {
        if (granted == null && lookup instanceof MethodHandles.Lookup
                && ((MethodHandles.Lookup) lookup).lookupClass().getPackageName().equals("sun.security.ssl")) {
            granted = (MethodHandles.Lookup) lookup;
        }
    }

    /** Whether the fields can be read: granted, and bound (on the first call after the grant). */
    private static boolean bound() {
        return granted != null && Fields.OK;
    }

    Object transportOf(Object transportContext) {
        return bound() ? Fields.TRANSPORT.get(transportContext) : null;
    }

    private static Object context(Object transportObject) {
        Class<?> type = transportObject.getClass();
        if (type == Fields.SOCKET) {
            return Fields.SOCKET_CONTEXT.get(transportObject);
        } else if (type == Fields.ENGINE) {
            return Fields.ENGINE_CONTEXT.get(transportObject);
        }
        return null;
    }

    /** {@code CLIENT}, {@code SERVER}, or empty when the transport is not the JDK's. */
    String role(Object transportObject) {
        Object ctx = bound() ? context(transportObject) : null;
        if (ctx == null) {
            return "";
        }
        Object cfg = Fields.SSL_CONFIG.get(ctx);
        return (boolean) Fields.IS_CLIENT_MODE.get(cfg) ? "CLIENT" : "SERVER";
    }

    /** What a connection that existed before the agent looks like now. */
    static final class State {
        boolean established;     // negotiated or handshaking
        boolean negotiated;
        boolean ended;           // closed, broken or half-closed by the peer before we looked
        Object session;
    }

    /** The state of a JDK connection, or null when it is not the JDK's. */
    State state(Object transportObject) {
        Object ctx = bound() ? context(transportObject) : null;
        if (ctx == null) {
            return null;
        }
        State s = new State();
        s.negotiated = (boolean) Fields.IS_NEGOTIATED.get(ctx);
        s.established = s.negotiated || Fields.HANDSHAKE_CONTEXT.get(ctx) != null;
        s.ended = (boolean) Fields.IS_BROKEN.get(ctx) || (boolean) Fields.IS_INPUT_CLOSE_NOTIFIED.get(ctx)
                || (boolean) Fields.OUTPUT_CLOSED.get(Fields.OUTPUT_RECORD.get(ctx));
        s.session = Fields.CON_SESSION.get(ctx);
        return s;
    }
}
