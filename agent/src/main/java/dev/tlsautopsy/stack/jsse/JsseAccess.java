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

    private static final class Fields {
        final VarHandle transport;
        final VarHandle sslConfig;
        final VarHandle isClientMode;
        final VarHandle socketContext;
        final VarHandle engineContext;
        final VarHandle isNegotiated;
        final VarHandle handshakeContext;
        final VarHandle isBroken;
        final VarHandle isInputCloseNotified;
        final VarHandle conSession;
        final VarHandle outputRecord;
        final VarHandle outputClosed;

        Fields(MethodHandles.Lookup l) throws ReflectiveOperationException {
            Class<?> ctx = Class.forName("sun.security.ssl.TransportContext", false, null);
            Class<?> cfg = Class.forName("sun.security.ssl.SSLConfiguration", false, null);
            Class<?> socket = Class.forName("sun.security.ssl.SSLSocketImpl", false, null);
            Class<?> engine = Class.forName("sun.security.ssl.SSLEngineImpl", false, null);
            transport = MethodHandles.privateLookupIn(ctx, l).findVarHandle(ctx, "transport",
                    Class.forName("sun.security.ssl.SSLTransport", false, null));
            sslConfig = MethodHandles.privateLookupIn(ctx, l).findVarHandle(ctx, "sslConfig", cfg);
            isClientMode = MethodHandles.privateLookupIn(cfg, l).findVarHandle(cfg, "isClientMode", boolean.class);
            socketContext = MethodHandles.privateLookupIn(socket, l).findVarHandle(socket, "conContext", ctx);
            engineContext = MethodHandles.privateLookupIn(engine, l).findVarHandle(engine, "conContext", ctx);
            MethodHandles.Lookup c = MethodHandles.privateLookupIn(ctx, l);
            isNegotiated = c.findVarHandle(ctx, "isNegotiated", boolean.class);
            handshakeContext = c.findVarHandle(ctx, "handshakeContext",
                    Class.forName("sun.security.ssl.HandshakeContext", false, null));
            isBroken = c.findVarHandle(ctx, "isBroken", boolean.class);
            isInputCloseNotified = c.findVarHandle(ctx, "isInputCloseNotified", boolean.class);
            conSession = c.findVarHandle(ctx, "conSession", Class.forName("sun.security.ssl.SSLSessionImpl", false, null));
            Class<?> out = Class.forName("sun.security.ssl.OutputRecord", false, null);
            outputRecord = c.findVarHandle(ctx, "outputRecord", out);
            outputClosed = MethodHandles.privateLookupIn(out, l).findVarHandle(out, "isClosed", boolean.class);
        }
    }

    private volatile MethodHandles.Lookup granted;
    private volatile Fields fields;
    private volatile boolean broken;

    /** True until a JSSE class's own lookup has been handed over. */
    boolean needsLookup() {
        return granted == null && !broken;
    }

    /** Takes the lookup that advice created inside a {@code sun.security.ssl} class. */
    void grant(Object lookup) {
        if (granted == null && lookup instanceof MethodHandles.Lookup
                && ((MethodHandles.Lookup) lookup).lookupClass().getPackageName().equals("sun.security.ssl")) {
            granted = (MethodHandles.Lookup) lookup;
        }
    }

    private Fields fields() {
        Fields f = fields;
        MethodHandles.Lookup l = granted;
        if (f == null && l != null && !broken) {
            synchronized (this) {
                if (fields == null && !broken) {
                    try {
                        dev.tlsautopsy.StartupTiming.mark("JSSE fields");
                        fields = new Fields(l);
                        dev.tlsautopsy.StartupTiming.mark("JSSE fields done");
                    } catch (Throwable t) {
                        broken = true;
                        System.err.println("tls-autopsy: cannot read JSSE state (" + t + "); roles will be empty");
                    }
                }
                f = fields;
            }
        }
        return f;
    }

    Object transportOf(Object transportContext) {
        Fields f = fields();
        return f == null ? null : f.transport.get(transportContext);
    }

    private static Object context(Fields f, Object transportObject) {
        String name = transportObject.getClass().getName();
        if (name.equals("sun.security.ssl.SSLSocketImpl")) {
            return f.socketContext.get(transportObject);
        } else if (name.equals("sun.security.ssl.SSLEngineImpl")) {
            return f.engineContext.get(transportObject);
        }
        return null;
    }

    /** {@code CLIENT}, {@code SERVER}, or empty when the transport is not the JDK's. */
    String role(Object transportObject) {
        Fields f = fields();
        Object ctx = f == null ? null : context(f, transportObject);
        if (ctx == null) {
            return "";
        }
        Object cfg = f.sslConfig.get(ctx);
        return (boolean) f.isClientMode.get(cfg) ? "CLIENT" : "SERVER";
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
        Fields f = fields();
        Object ctx = f == null ? null : context(f, transportObject);
        if (ctx == null) {
            return null;
        }
        State s = new State();
        s.negotiated = (boolean) f.isNegotiated.get(ctx);
        s.established = s.negotiated || f.handshakeContext.get(ctx) != null;
        s.ended = (boolean) f.isBroken.get(ctx) || (boolean) f.isInputCloseNotified.get(ctx)
                || (boolean) f.outputClosed.get(f.outputRecord.get(ctx));
        s.session = f.conSession.get(ctx);
        return s;
    }
}
