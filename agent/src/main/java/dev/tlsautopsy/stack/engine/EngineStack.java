package dev.tlsautopsy.stack.engine;

import static dev.tlsautopsy.instrument.Value.arg;
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
import javax.net.ssl.SSLEngine;

/**
 * Any {@code javax.net.ssl.SSLEngine} that is not the JDK's: Netty's OpenSSL/BoringSSL engine, BouncyCastle's
 * {@code ProvSSLEngine}, Conscrypt's. Its public {@code SSLEngineResult}-returning {@code wrap}/{@code unwrap}
 * overloads, {@code closeInbound()} and {@code closeOutbound()}. Overloads call one another and wrapper
 * engines call inner ones: only the outermost call on a thread counts. Checked with netty-tcnative 2.0.84
 * and bctls 1.84.
 */
public final class EngineStack implements Stack, Owner {

    static final int WRAP = 0, UNWRAP = 1, CLOSE_INBOUND = 2, CLOSE_OUTBOUND = 3;

    private static final String RESULT = "Ljavax/net/ssl/SSLEngineResult;";

    private EngineReading reading;

    @Override
    public void bind(Tracker tracker) {
        this.reading = new EngineReading(tracker, this);
    }

    @Override
    public String group() {
        return "engine";
    }

    /**
     * Resolving a class's superclasses costs a class-file read each, so only classes named like an engine
     * are looked at (Netty's ReferenceCountedOpenSslEngine and JdkSslEngine, BouncyCastle's ProvSSLEngine,
     * Conscrypt's ConscryptEngine, WildFly's OpenSSLEngine). An SSLEngine subclass without "Engine" in its
     * name is not instrumented.
     */
    static boolean candidate(String internalName) {
        // QUIC engines (Netty's QuicheQuicSslEngine) subclass SSLEngine but carry no TLS records over TCP:
        // nothing here applies to them
        return internalName.contains("Engine") && !internalName.contains("Quic") && !internalName.startsWith("java/")
                && !internalName.startsWith("javax/") && !internalName.startsWith("jdk/")
                && !internalName.startsWith("sun/") && !internalName.startsWith("com/sun/")
                && !internalName.startsWith("dev/tlsautopsy/");
    }

    @Override
    public void declare(HookSet hooks) {
        TypeHooks engines = hooks.subtypesOf("javax.net.ssl.SSLEngine", new Candidates());
        // only the public SSLEngine API shapes: a provider's private helpers of the same name may take
        // other arguments or return other things
        // the three wrap shapes of the SSLEngine API, each with its destination (what a channel then writes)
        // (and the connection's evidence, which the engine remembers where its class could take the field)
        engines.method(WRAP, "wrap", "(Ljava/nio/ByteBuffer;Ljava/nio/ByteBuffer;)" + RESULT)
                .enter(self(), arg(1), remembered()).exit(returned());
        engines.method(WRAP, "wrap", "([Ljava/nio/ByteBuffer;Ljava/nio/ByteBuffer;)" + RESULT)
                .enter(self(), arg(1), remembered()).exit(returned());
        engines.method(WRAP, "wrap", "([Ljava/nio/ByteBuffer;IILjava/nio/ByteBuffer;)" + RESULT)
                .enter(self(), arg(3), remembered()).exit(returned());
        engines.methods(UNWRAP, Methods.named("unwrap").publicOnly().returning(RESULT)
                        .firstArgument("Ljava/nio/ByteBuffer;", "[Ljava/nio/ByteBuffer;"))
                .enter(self(), arg(0), remembered()).exit(returned());
        engines.method(CLOSE_INBOUND, "closeInbound", "()V").enter(self()).exit();
        engines.method(CLOSE_OUTBOUND, "closeOutbound", "()V").enter(self()).exit();
    }

    /** {@link #candidate} as the hook set takes it. */
    private static final class Candidates implements java.util.function.Predicate<String> {
        @Override
        public boolean test(String internalName) {
            return candidate(internalName);
        }
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        return reading.enter(a, hook, b, c);
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        reading.exit(token, a, thrown);
    }

    @Override
    public void describe(Evidence ev, Object transport) {
        if (transport instanceof SSLEngine) {
            SSLEngine e = (SSLEngine) transport;
            if (ev.role.isEmpty()) {
                ev.role = e.getUseClientMode() ? "CLIENT" : "SERVER";
            }
            String host = e.getPeerHost();
            ev.peerHost = host == null ? "" : host;
            ev.peerPort = e.getPeerPort();
        }
    }
}
