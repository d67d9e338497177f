package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.named;

import dev.tlsautopsy.bootstrap.Hooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * {@code sun.nio.ch.SocketChannelImpl}: a failed read or write on the channel below an SSLEngine
 * (reset, timeout through the socket adaptor, asynchronous close). Only the exceptional exit calls
 * out; the engine that the same thread closes next is charged with it. Checked on JDK 17.0.15 and
 * 25.0.3: {@code read}/{@code write} (buffer and scattering forms), {@code blockingRead},
 * {@code blockingWriteFully}.
 */
public final class SocketChannelHook implements TypeHook {

    @Override public String group() { return "jsse"; }

    @Override public String typeName() { return "sun.nio.ch.SocketChannelImpl"; }

    @Override
    public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
        return b.visit(Advice.to(Failure.class).on(named("read").or(named("write"))
                .or(named("blockingRead")).or(named("blockingWriteFully"))));
    }

    static final class Failure {
        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.This Object channel, @Advice.Thrown Throwable thrown) {
            if (thrown != null) {
                Hooks.channelFailed(channel, thrown);
            }
        }
    }
}
