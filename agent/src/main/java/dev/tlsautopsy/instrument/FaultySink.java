package dev.tlsautopsy.instrument;

import dev.tlsautopsy.bootstrap.Sink;

/**
 * For tests of the guarantee that a broken hook never hurts the application: with the system property
 * {@code tlsautopsy.debug.failHook=NAME}, the hook of that name (as its warning names it, e.g.
 * {@code jsse:SSLSocketImpl.handleEOF}) throws on every call.
 */
final class FaultySink implements Sink {

    static final String PROPERTY = "tlsautopsy.debug.failHook";

    private final Sink real;
    private final String failing;

    FaultySink(Sink real, String failing) {
        this.real = real;
        this.failing = failing;
    }

    private void check(int hook) {
        if (real.name(hook).equals(failing)) {
            throw new IllegalStateException("deliberately broken hook " + failing);
        }
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        check(hook);
        return real.enter(hook, a, b, c, d, n, m);
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        check(hook);
        real.exit(hook, token, a, b, c, n, m, thrown);
    }

    @Override
    public boolean wantsLookup(int hook) {
        return real.wantsLookup(hook);
    }

    @Override
    public void lookup(int hook, Object lookup) {
        real.lookup(hook, lookup);
    }

    @Override
    public String name(int hook) {
        return real.name(hook);
    }
}
