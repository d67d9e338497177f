package dev.tlsautopsy.instrument;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;

/**
 * The agent's only class file transformer: a name check for every class the JVM loads (a hash lookup,
 * no parsing), and Byte Buddy for the few TLS classes that pass it. Byte Buddy is built off the
 * start-up path; a TLS class that loads earlier waits for it, at most {@link #WAIT_SECONDS}.
 */
final class LazyTransformer implements ClassFileTransformer {

    static final long WAIT_SECONDS = 20;
    static final boolean TIMING = Boolean.getBoolean("tlsautopsy.debug.timing");

    private final Set<String> names = new HashSet<>();
    private final boolean anyEngine;
    private final CountDownLatch built = new CountDownLatch(1);
    private volatile ClassFileTransformer delegate;
    private volatile boolean gaveUp;
    /** The thread building Byte Buddy: never waits for itself (JFR's start retransforms SocketChannelImpl). */
    private volatile Thread builder;

    LazyTransformer(List<TypeHook> hooks) {
        boolean engines = false;
        for (TypeHook h : hooks) {
            if (h instanceof AnyEngineHooks) {
                engines = true;
            } else {
                names.add(h.typeName().replace('.', '/'));
            }
        }
        anyEngine = engines;
    }

    void building() {
        builder = Thread.currentThread();
    }

    void ready(ClassFileTransformer byteBuddy) {
        delegate = byteBuddy;
        built.countDown();
    }

    void failed() {
        built.countDown();
    }

    /** A class loaded before this transformer was registered that it would have transformed. */
    boolean wants(Class<?> c) {
        if (names.contains(c.getName().replace('.', '/'))) {
            return true;
        }
        return anyEngine && candidate(c.getName().replace('.', '/')) && SSLEngine.class.isAssignableFrom(c)
                && !c.isInterface();
    }

    /** Mirrors {@link AnyEngineHooks#matcher()}'s name rules, on the internal name. */
    private static boolean candidate(String internalName) {
        return internalName.contains("Engine") && !internalName.startsWith("java/")
                && !internalName.startsWith("javax/") && !internalName.startsWith("jdk/")
                && !internalName.startsWith("sun/") && !internalName.startsWith("com/sun/")
                && !internalName.startsWith("dev/tlsautopsy/");
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain domain, byte[] classfileBuffer) {
        if (className == null || !(names.contains(className) || (anyEngine && candidate(className)))) {
            return null;
        }
        long t0 = System.nanoTime();
        ClassFileTransformer t = await();
        long t1 = System.nanoTime();
        if (t == null) {
            return null;
        }
        try {
            return t.transform(module, loader, className, classBeingRedefined, domain, classfileBuffer);
        } catch (Throwable e) {
            return null;
        } finally {
            if (TIMING) {
                System.err.printf("tls-autopsy timing: %s waited %d ms, transformed in %d ms on %s%n", className,
                        (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000, Thread.currentThread().getName());
            }
        }
    }

    private ClassFileTransformer await() {
        ClassFileTransformer t = delegate;
        if (t != null || gaveUp || Thread.currentThread() == builder) {
            // the builder's own loads are left alone: what it loaded is retransformed once it is ready
            return t;
        }
        try {
            if (!built.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                gaveUp = true;
                System.err.println("tls-autopsy: instrumentation not ready after " + WAIT_SECONDS
                        + " s; classes loaded meanwhile are not instrumented");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return delegate;
    }
}
