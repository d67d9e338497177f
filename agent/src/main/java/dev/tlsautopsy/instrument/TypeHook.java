package dev.tlsautopsy.instrument;

import net.bytebuddy.dynamic.DynamicType;

/** One instrumented type: its name, the hook group that enables it, and the advice it receives. */
public interface TypeHook {

    /** {@code jsse}, {@code engine} or {@code netty}: the {@code instrument=} group. */
    String group();

    String typeName();

    DynamicType.Builder<?> apply(DynamicType.Builder<?> builder);
}
