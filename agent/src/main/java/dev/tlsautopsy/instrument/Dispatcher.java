package dev.tlsautopsy.instrument;

import dev.tlsautopsy.bootstrap.Sink;

/** Routes each hook number to the stack that declared it. */
final class Dispatcher implements Sink {

    private static final int SHIFT = Integer.numberOfTrailingZeros(HookSet.PER_STACK);

    private final Stack[] stacks;
    private final HookSet[] sets;

    Dispatcher(Stack[] stacks, HookSet[] sets) {
        this.stacks = stacks;
        this.sets = sets;
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        return stacks[hook >>> SHIFT].enter(hook & (HookSet.PER_STACK - 1), a, b, c, d, n, m);
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        stacks[hook >>> SHIFT].exit(hook & (HookSet.PER_STACK - 1), token, a, b, c, n, m, thrown);
    }

    @Override
    public boolean wantsLookup(int hook) {
        return stacks[hook >>> SHIFT].wantsLookup();
    }

    @Override
    public void lookup(int hook, Object lookup) {
        stacks[hook >>> SHIFT].lookup(lookup);
    }

    @Override
    public String name(int hook) {
        HookSet s = sets[hook >>> SHIFT];
        String name = s == null ? null : s.names[hook & (HookSet.PER_STACK - 1)];
        return name == null ? "#" + hook : name;
    }
}
