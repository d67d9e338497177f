package dev.tlsautopsy.track;

import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.Set;

/**
 * Reads the few private JSSE fields the hooks cannot pass: a TransportContext's transport and
 * whether it runs as client. Checked on JDK 17.0.15 and 25.0.3: {@code TransportContext.transport},
 * {@code TransportContext.sslConfig}, {@code SSLConfiguration.isClientMode},
 * {@code SSLSocketImpl.conContext} and {@code SSLEngineImpl.conContext} have the same names and types.
 * Reading never takes a JSSE lock (the public getters do, and could deadlock a handshake).
 *
 * <p>The fields are bound on first use, never at start-up: loading {@code SSLSocketImpl} early would
 * make its retransformation load its stream classes where the instrumentation cannot see them.
 */
final class JsseAccess {

    private static final class Fields {
        final VarHandle transport;
        final VarHandle sslConfig;
        final VarHandle isClientMode;
        final VarHandle socketContext;
        final VarHandle engineContext;

        Fields() throws ReflectiveOperationException {
            Class<?> ctx = Class.forName("sun.security.ssl.TransportContext", false, null);
            Class<?> cfg = Class.forName("sun.security.ssl.SSLConfiguration", false, null);
            Class<?> socket = Class.forName("sun.security.ssl.SSLSocketImpl", false, null);
            Class<?> engine = Class.forName("sun.security.ssl.SSLEngineImpl", false, null);
            MethodHandles.Lookup l = MethodHandles.lookup();
            transport = MethodHandles.privateLookupIn(ctx, l).findVarHandle(ctx, "transport",
                    Class.forName("sun.security.ssl.SSLTransport", false, null));
            sslConfig = MethodHandles.privateLookupIn(ctx, l).findVarHandle(ctx, "sslConfig", cfg);
            isClientMode = MethodHandles.privateLookupIn(cfg, l).findVarHandle(cfg, "isClientMode", boolean.class);
            socketContext = MethodHandles.privateLookupIn(socket, l).findVarHandle(socket, "conContext", ctx);
            engineContext = MethodHandles.privateLookupIn(engine, l).findVarHandle(engine, "conContext", ctx);
        }
    }

    private volatile Fields fields;
    private volatile boolean broken;

    private JsseAccess() {
    }

    /** Opens {@code sun.security.ssl} to the agent's module (without loading any of its classes). */
    static JsseAccess open(Instrumentation inst) {
        try {
            Module javaBase = Object.class.getModule();
            Module self = JsseAccess.class.getModule();
            if (!javaBase.isOpen("sun.security.ssl", self)) {
                inst.redefineModule(javaBase, Set.of(), Map.of(), Map.of("sun.security.ssl", Set.of(self)),
                        Set.of(), Map.of());
            }
            return new JsseAccess();
        } catch (Throwable t) {
            System.err.println("tls-autopsy: cannot read JSSE state (" + t + "); roles will be empty");
            return null;
        }
    }

    private Fields fields() {
        Fields f = fields;
        if (f == null && !broken) {
            synchronized (this) {
                if (fields == null && !broken) {
                    try {
                        fields = new Fields();
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

    /** {@code CLIENT}, {@code SERVER}, or empty when the transport is not the JDK's. */
    String role(Object transportObject) {
        Fields f = fields();
        if (f == null) {
            return "";
        }
        Object ctx;
        String name = transportObject.getClass().getName();
        if (name.equals("sun.security.ssl.SSLSocketImpl")) {
            ctx = f.socketContext.get(transportObject);
        } else if (name.equals("sun.security.ssl.SSLEngineImpl")) {
            ctx = f.engineContext.get(transportObject);
        } else {
            return "";
        }
        Object cfg = f.sslConfig.get(ctx);
        return (boolean) f.isClientMode.get(cfg) ? "CLIENT" : "SERVER";
    }
}
