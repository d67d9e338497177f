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
     * {@link #bound()} allows only after the grant. If any name is missing, {@link #OK} is false and no
     * handle is read.
     */
    private static final class Fields {
        /** The first name that could not be bound, if any (set while the class initialises). */
        private static Throwable failure;

        static {
            dev.tlsautopsy.StartupTiming.mark("JSSE fields");
        }

        static final Class<?> CONTEXT = type("sun.security.ssl.TransportContext");
        static final Class<?> CONFIG = type("sun.security.ssl.SSLConfiguration");
        static final Class<?> SOCKET = type("sun.security.ssl.SSLSocketImpl");
        static final Class<?> ENGINE = type("sun.security.ssl.SSLEngineImpl");
        static final Class<?> OUTPUT = type("sun.security.ssl.OutputRecord");
        static final VarHandle TRANSPORT = field(CONTEXT, "transport", type("sun.security.ssl.SSLTransport"));
        static final VarHandle SSL_CONFIG = field(CONTEXT, "sslConfig", CONFIG);
        static final VarHandle IS_CLIENT_MODE = field(CONFIG, "isClientMode", boolean.class);
        static final VarHandle SOCKET_CONTEXT = field(SOCKET, "conContext", CONTEXT);
        static final VarHandle ENGINE_CONTEXT = field(ENGINE, "conContext", CONTEXT);
        static final VarHandle IS_NEGOTIATED = field(CONTEXT, "isNegotiated", boolean.class);
        static final VarHandle HANDSHAKE_CONTEXT = field(CONTEXT, "handshakeContext",
                type("sun.security.ssl.HandshakeContext"));
        static final VarHandle IS_BROKEN = field(CONTEXT, "isBroken", boolean.class);
        static final VarHandle IS_INPUT_CLOSE_NOTIFIED = field(CONTEXT, "isInputCloseNotified", boolean.class);
        static final VarHandle CON_SESSION = field(CONTEXT, "conSession", type("sun.security.ssl.SSLSessionImpl"));
        static final VarHandle OUTPUT_RECORD = field(CONTEXT, "outputRecord", OUTPUT);
        static final VarHandle OUTPUT_CLOSED = field(OUTPUT, "isClosed", boolean.class);
        static final boolean OK = done();

        private static Class<?> type(String name) {
            try {
                return failure == null ? Class.forName(name, false, null) : null;
            } catch (Throwable t) {
                failure = t;
                return null;
            }
        }

        private static VarHandle field(Class<?> owner, String name, Class<?> type) {
            try {
                return failure == null
                        ? MethodHandles.privateLookupIn(owner, granted).findVarHandle(owner, name, type) : null;
            } catch (Throwable t) {
                failure = t;
                return null;
            }
        }

        private static boolean done() {
            if (failure != null) {
                System.err.println("tls-autopsy: cannot read JSSE state (" + failure + "); roles will be empty");
                return false;
            }
            dev.tlsautopsy.StartupTiming.mark("JSSE fields done");
            return true;
        }
    }

    /**
     * The field the weaver added, for its connection's evidence, to {@code SSLEngineImpl}, {@code SSLSocketImpl}
     * and {@code sun.nio.ch.SocketChannelImpl}, where the JVM defined the class with the agent present; a
     * handle is null after an attach (or if the class was loaded first). Bound on first use after the grant,
     * like {@link Fields}: {@code java.base} opens nothing, and the JSSE lookup reaches the channel's package
     * because it is in the same module.
     */
    private static final class Remembered {
        static final VarHandle ENGINE = bind(Fields.ENGINE);
        static final VarHandle SOCKET = bind(Fields.SOCKET);

        static VarHandle bind(Class<?> owner) {
            try {
                return owner == null ? null : MethodHandles.privateLookupIn(owner, granted)
                        .findVarHandle(owner, dev.tlsautopsy.instrument.Value.REMEMBERED_FIELD, Object.class);
            } catch (Throwable noField) {
                return null;    // the connection table finds the evidence on every call
            }
        }
    }

    /** The channel's, bound when a channel is first asked about (so that binding never loads its class). */
    private static final class RememberedChannel {
        static final Class<?> TYPE = type();
        static final VarHandle FIELD = Remembered.bind(TYPE);

        private static Class<?> type() {
            try {
                return Class.forName("sun.nio.ch.SocketChannelImpl", false, null);
            } catch (Throwable absent) {
                return null;
            }
        }
    }

    /** What a JDK engine, socket or channel remembers (null if nothing, or if it cannot remember). */
    static Object recall(Object key) {
        if (key == null || !bound()) {
            return null;
        }
        // each handle a constant, so that every read is a plain field load
        Class<?> type = key.getClass();
        if (type == Fields.ENGINE) {
            return Remembered.ENGINE == null ? null : Remembered.ENGINE.getAcquire(key);
        } else if (type == Fields.SOCKET) {
            return Remembered.SOCKET == null ? null : Remembered.SOCKET.getAcquire(key);
        } else if (key instanceof java.nio.channels.SocketChannel && type == RememberedChannel.TYPE) {
            return RememberedChannel.FIELD == null ? null : RememberedChannel.FIELD.getAcquire(key);
        }
        return null;
    }

    /**
     * Makes a JDK engine, socket or channel remember {@code evidence}, unless it remembers one already (the
     * first link wins, as in the connection table). False when it cannot remember at all.
     */
    static boolean keep(Object key, Object evidence) {
        if (key == null || !bound()) {
            return false;
        }
        // a failed compare-and-set means one was remembered first, which stays
        Class<?> type = key.getClass();
        if (type == Fields.ENGINE && Remembered.ENGINE != null) {
            Remembered.ENGINE.compareAndSet(key, null, evidence);
            return true;
        } else if (type == Fields.SOCKET && Remembered.SOCKET != null) {
            Remembered.SOCKET.compareAndSet(key, null, evidence);
            return true;
        } else if (key instanceof java.nio.channels.SocketChannel && type == RememberedChannel.TYPE
                && RememberedChannel.FIELD != null) {
            RememberedChannel.FIELD.compareAndSet(key, null, evidence);
            return true;
        }
        return false;
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
