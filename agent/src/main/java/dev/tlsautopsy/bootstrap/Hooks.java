package dev.tlsautopsy.bootstrap;

/**
 * The two static entry points every woven method calls, whatever its TLS stack: {@link #enter} at its
 * start and {@link #exit} at each return and throw. A hook is a number the weaver assigned; the values
 * are what the hook asked for (the instrumented object, arguments, fields, the return value), objects
 * first and primitives widened to {@code long}. A new stack needs no new method here.
 *
 * <p>Each call forwards to the installed {@link Sink}, never throws, and switches its hook off after
 * the first failure with one warning on stderr, so that a broken hook costs the application nothing.
 */
public final class Hooks {

    /** Hook numbers are below this. */
    public static final int MAX_HOOKS = 512;

    /** How long a hook that runs before the agent has finished starting waits for it. */
    private static final long START_WAIT_NANOS = 10_000_000_000L;

    private static final boolean[] OFF = new boolean[MAX_HOOKS];
    /** Hooks that never wait for the agent's start (set before any class is woven). */
    private static final boolean[] NO_WAIT = new boolean[MAX_HOOKS];
    /**
     * Hooks whose stack said it wants no more lookups: a stack that has its lookup never wants another, and
     * the woven prologue then costs an array read instead of three calls on every call of its method.
     */
    private static final boolean[] LOOKUP_DONE = new boolean[MAX_HOOKS];
    private static final Object STARTED = new Object();
    private static volatile Sink sink;
    /** The thread finishing the agent's start, while it does (it never waits for itself). */
    private static volatile Thread starting;

    private Hooks() {
    }

    /** The agent's start goes on in {@code starter}: until {@link #install}, a hook waits for it. */
    public static void starting(Thread starter) {
        starting = starter;
    }

    /** Connects the hooks (null: the agent could not start; waiting hooks go on without it). */
    public static void install(Sink s) {
        synchronized (STARTED) {
            sink = s;
            starting = null;
            STARTED.notifyAll();
        }
    }

    /**
     * A hook ran while the agent was still starting (a connection within the application's first moments):
     * it waits for the start to finish, at most {@link #START_WAIT_NANOS}, rather than miss its event.
     */
    private static Sink awaitStart() {
        Thread starter = starting;
        if (starter == null || starter == Thread.currentThread()) {
            return sink;
        }
        long deadline = System.nanoTime() + START_WAIT_NANOS;
        synchronized (STARTED) {
            long left;
            while (sink == null && starting != null && (left = deadline - System.nanoTime()) > 0) {
                try {
                    STARTED.wait(left / 1_000_000 + 1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return sink;
        }
    }

    /**
     * {@code hook} goes on without waiting for the agent's start: an event that cannot belong to a
     * connection the agent would miss (a plain channel's I/O, whose engine's own calls did wait).
     */
    public static void withoutStartWait(int hook) {
        NO_WAIT[hook] = true;
    }

    public static boolean installed() {
        return sink != null;
    }

    /** Called where a woven method starts; what it returns is passed to the same call's {@link #exit}. */
    public static Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        Sink s = sink;
        if (s == null && (NO_WAIT[hook] || (s = awaitStart()) == null) || OFF[hook]) {
            return null;
        }
        try {
            return s.enter(hook, a, b, c, d, n, m);
        } catch (Throwable t) {
            failed(s, hook, t);
            return null;
        }
    }

    /** Called where a woven method returns ({@code thrown} null) or throws. */
    public static void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        Sink s = sink;
        if (s == null && (NO_WAIT[hook] || (s = awaitStart()) == null) || OFF[hook]) {
            return;
        }
        try {
            s.exit(hook, token, a, b, c, n, m, thrown);
        } catch (Throwable t) {
            failed(s, hook, t);
        }
    }

    /**
     * {@link #exit} at a return whose value the stack cares about only when negative (a read's -1):
     * inlined into the woven method, the common return costs a compare.
     */
    public static void exitIfNegative(int hook, Object token, Object a, Object b, Object c, long n, long m,
            Throwable thrown) {
        if (n < 0 || thrown != null) {
            exit(hook, token, a, b, c, n, m, thrown);
        }
    }

    /**
     * Whether the hook's stack still wants a {@code MethodHandles.Lookup} of the woven class: a stack that
     * reads private state of a JDK package that is not opened gets it from code woven into that package,
     * which opens nothing to anyone else.
     */
    public static boolean wantsLookup(int hook) {
        if (LOOKUP_DONE[hook]) {
            return false;
        }
        Sink s = sink;
        if (s == null && (s = awaitStart()) == null || OFF[hook]) {
            return false;
        }
        try {
            if (s.wantsLookup(hook)) {
                return true;
            }
            LOOKUP_DONE[hook] = true;
            return false;
        } catch (Throwable t) {
            failed(s, hook, t);
            return false;
        }
    }

    /** A lookup created by code woven into the hook's class. */
    public static void lookup(int hook, Object lookup) {
        Sink s = sink;
        if (s == null || OFF[hook]) {
            return;
        }
        try {
            s.lookup(hook, lookup);
        } catch (Throwable t) {
            failed(s, hook, t);
        }
    }

    private static void failed(Sink s, int hook, Throwable t) {
        synchronized (OFF) {
            if (OFF[hook]) {
                return;
            }
            OFF[hook] = true;
        }
        try {
            System.err.println("tls-autopsy: hook " + s.name(hook) + " failed and is now disabled: " + t);
        } catch (Throwable ignored) {
            // nothing more can be done
        }
    }
}
