package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.named;

import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;

/** One instrumented type: its name, the hook group that enables it, and the advice it receives. */
public interface TypeHook {

    /** {@code jsse}, {@code engine} or {@code netty}: the {@code instrument=} group. */
    String group();

    String typeName();

    /** Which types: by default exactly {@link #typeName()}. */
    default ElementMatcher<TypeDescription> matcher() {
        return named(typeName());
    }

    DynamicType.Builder<?> apply(DynamicType.Builder<?> builder);
}
