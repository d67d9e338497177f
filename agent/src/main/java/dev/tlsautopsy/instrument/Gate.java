package dev.tlsautopsy.instrument;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.Set;

/**
 * The transformer premain registers, before the hooks are declared: declaring them (the stacks' classes,
 * the hook tables) happens on the agent's start thread, in parallel with the application's own start,
 * instead of in premain. Until then a class that could be one the hooks weave waits for them (bounded,
 * like a hook waiting for the agent's start); every other class passes at once, unwoven, as it would
 * with the hooks declared. Afterwards every class goes to the {@link HookTransformer}.
 */
final class Gate implements ClassFileTransformer {

    /**
     * The simple names (after the last {@code /}) of every class a stack hooks by name, under its own
     * package or a relocated one; {@code GateTest} checks that each declared class is here. SSLEngine
     * subclasses are hooked by supertype, among classes named like an engine outside the JDK, and pass
     * {@link #mayWeave} by that rule.
     */
    static final Set<String> HOOKED_NAMES = Set.of(
            // JSSE
            "TransportContext", "Alert$AlertConsumer", "SSLSocketOutputRecord", "SSLEngineOutputRecord", "SSLSocketImpl",
            "SSLSocketImpl$AppInputStream", "SSLSocketImpl$AppOutputStream", "SSLSocketInputRecord", "SSLEngineImpl",
            "SSLEngineImpl$DelegatedTask", "SocketChannelImpl", "ManagementFactory",
            // Netty, under any prefix
            "SslHandler", "SslUtils", "AbstractChannel$AbstractUnsafe", "AbstractEpollChannel$AbstractEpollUnsafe",
            "AbstractKQueueChannel$AbstractKQueueUnsafe", "AbstractNioByteChannel$NioByteUnsafe",
            "AbstractIoUringChannel$AbstractUringUnsafe",
            // provider sockets
            "ProvSSLSocketWrap", "ProvSSLSocketDirect", "ProvSSLSocketWrap$AppDataInput", "ProvSSLSocketWrap$AppDataOutput",
            "ProvSSLSocketDirect$AppDataInput", "ProvSSLSocketDirect$AppDataOutput", "ProvTlsClient", "ProvTlsServer",
            "ConscryptEngineSocket", "ConscryptEngineSocket$SSLInputStream", "ConscryptEngineSocket$SSLOutputStream");

    private static final long WAIT_NANOS = 10_000_000_000L;

    private final Object lock = new Object();
    private volatile ClassFileTransformer hooks;
    private volatile boolean open;
    /** The start thread: it never waits for itself (it loads classes while it declares the hooks). */
    private final Thread starter;

    Gate(Thread starter) {
        this.starter = starter;
    }

    /** The hooks are declared ({@code null}: the agent could not start; every class passes). */
    void open(ClassFileTransformer declared) {
        synchronized (lock) {
            hooks = declared;
            open = true;
            lock.notifyAll();
        }
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain domain, byte[] classfileBuffer) {
        ClassFileTransformer t = hooks;
        if (t == null) {
            if (open || className == null || !mayWeave(className) || Thread.currentThread() == starter) {
                return null;
            }
            t = awaitOpen();
            if (t == null) {
                return null;
            }
        }
        try {
            return t.transform(module, loader, className, classBeingRedefined, domain, classfileBuffer);
        } catch (Throwable e) {
            return null;
        }
    }

    private ClassFileTransformer awaitOpen() {
        long deadline = System.nanoTime() + WAIT_NANOS;
        synchronized (lock) {
            long left;
            while (!open && (left = deadline - System.nanoTime()) > 0) {
                try {
                    lock.wait(left / 1_000_000 + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return hooks;
        }
    }

    /** Whether a class of this internal name could be one the hooks weave. */
    static boolean mayWeave(String internalName) {
        if (internalName.startsWith("dev/tlsautopsy/")) {
            return false;
        }
        if (internalName.contains("Engine") && !internalName.startsWith("java/") && !internalName.startsWith("javax/")
                && !internalName.startsWith("jdk/") && !internalName.startsWith("sun/") && !internalName.startsWith("com/sun/")) {
            // the engine stack's candidates for SSLEngine subclasses, and more
            return true;
        }
        return HOOKED_NAMES.contains(internalName.substring(internalName.lastIndexOf('/') + 1));
    }
}
