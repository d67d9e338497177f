package dev.tlsautopsy.bootstrap;

/**
 * What the hooks report to. Implemented in the agent's own class loader; this interface lives on the
 * boot class path so that code woven into {@code java.base} can reach it. Only exported types appear.
 */
public interface Sink {

    Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m);

    void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown);

    /** Whether the hook's stack wants a lookup of the woven class (see {@link Hooks#wantsLookup}). */
    boolean wantsLookup(int hook);

    void lookup(int hook, Object lookup);

    /** The hook's name, for the warning when it fails. */
    String name(int hook);
}
