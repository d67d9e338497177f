package dev.tlsautopsy.instrument;

import dev.tlsautopsy.track.Tracker;

/**
 * One TLS stack (or the one output that needs a hook): the hooks it weaves and its reading of them. It reports what it reads to the core
 * {@link dev.tlsautopsy.track.Tracker}. Stacks are listed once, in {@link Installer#stacks}.
 */
public interface Stack {

    /** The {@code instrument=} group that enables this stack. */
    String group();

    /** Declares the methods to weave, numbering its hooks from 0. Called in premain: declare, do nothing else. */
    void declare(HookSet hooks);

    /** Connects the stack's reading to the core, before any of its hooks is called. */
    void bind(Tracker tracker);

    /** A woven method of this stack started; returns what its {@link #exit} receives as {@code token}. */
    Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m);

    /** A woven method of this stack returned ({@code thrown} null) or threw. */
    void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown);

    /**
     * Whether a hook declared with {@link HookSet.MethodHook#grantsLookup()} should hand over its class's lookup.
     * Once false, never true again: the hooks remember a no and stop asking.
     */
    default boolean wantsLookup() {
        return false;
    }

    /** A {@code MethodHandles.Lookup} created inside a class this stack weaves. */
    default void lookup(Object lookup) {
    }

    /** JDK classes this stack weaves, worth loading (not initialising) before the application needs them. */
    default String[] jdkClasses() {
        return new String[0];
    }

    /**
     * A library's classes this stack weaves, worth weaving ahead (not loading) when they are on the
     * application's class path: their woven bytes wait for the class to load, which then costs the loading
     * thread a comparison instead of a weaving.
     */
    default String[] libraryClasses() {
        return new String[0];
    }
}
