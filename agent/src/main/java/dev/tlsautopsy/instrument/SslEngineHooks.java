package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.tlsautopsy.bootstrap.Hooks;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The JDK's SSLEngine ({@code sun.security.ssl.SSLEngineImpl}), checked on JDK 17.0.15 and 25.0.3:
 * every public {@code wrap}/{@code unwrap} overload funnels into the six-argument forms; plus
 * {@code closeInbound()}, {@code closeOutbound()} and {@code beginHandshake()}. The engine never sees its
 * transport: resets and timeouts come from {@link SocketChannelHook}.
 */
public final class SslEngineHooks implements TypeHook {

    /**
     * {@code SSLEngineImpl$DelegatedTask.run()} (field {@code engine}): certificate checks fail here,
     * outside any wrap or unwrap; the application sees the failure at its next call.
     */
    public static final class Task implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLEngineImpl$DelegatedTask"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Run.class).on(named("run").and(takesArguments(0))));
        }

        static final class Run {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.FieldValue("engine") Object engine) {
                return Hooks.callEnter(engine, Hooks.ENGINE_TASK);
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
                Hooks.callExit(evidence, Hooks.ENGINE_TASK, 0, thrown);
            }
        }
    }

    @Override public String group() { return "jsse"; }

    @Override public String typeName() { return "sun.security.ssl.SSLEngineImpl"; }

    @Override
    public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
        return b.visit(Advice.to(Wrap.class).on(named("wrap").and(takesArguments(6))))
                .visit(Advice.to(Unwrap.class).on(named("unwrap").and(takesArguments(6))))
                .visit(Advice.to(CloseInbound.class).on(named("closeInbound").and(takesArguments(0))))
                .visit(Advice.to(CloseOutbound.class).on(named("closeOutbound").and(takesArguments(0))))
                .visit(Advice.to(BeginHandshake.class).on(named("beginHandshake").and(takesArguments(0))));
    }

    static final class Wrap {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            if (Hooks.needsJsseLookup()) {
                Hooks.jsseLookup(MethodHandles.lookup());
            }
            return Hooks.callEnter(engine, Hooks.ENGINE_WRAP);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.This Object engine, @Advice.Enter Object evidence,
                         @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object result, @Advice.Thrown Throwable thrown) {
            Hooks.engineResult(engine, evidence, Hooks.ENGINE_WRAP, result, null, 0, 0, thrown);
        }
    }

    static final class Unwrap {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            if (Hooks.needsJsseLookup()) {
                Hooks.jsseLookup(MethodHandles.lookup());
            }
            return Hooks.callEnter(engine, Hooks.ENGINE_UNWRAP);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.This Object engine, @Advice.Enter Object evidence,
                         @Advice.Argument(0) ByteBuffer[] sources, @Advice.Argument(1) int offset,
                         @Advice.Argument(2) int length,
                         @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object result, @Advice.Thrown Throwable thrown) {
            Hooks.engineResult(engine, evidence, Hooks.ENGINE_UNWRAP, result, sources, offset, length, thrown);
        }
    }

    static final class CloseInbound {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            return Hooks.callEnter(engine, Hooks.ENGINE_CLOSE_INBOUND);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
            Hooks.callExit(evidence, Hooks.ENGINE_CLOSE_INBOUND, 0, thrown);
        }
    }

    static final class CloseOutbound {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            if (Hooks.needsJsseLookup()) {
                Hooks.jsseLookup(MethodHandles.lookup());
            }
            return Hooks.callEnter(engine, Hooks.ENGINE_CLOSE_OUTBOUND);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
            Hooks.callExit(evidence, Hooks.ENGINE_CLOSE_OUTBOUND, 0, thrown);
        }
    }

    static final class BeginHandshake {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            return Hooks.callEnter(engine, Hooks.ENGINE_BEGIN_HANDSHAKE);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
            Hooks.callExit(evidence, Hooks.ENGINE_BEGIN_HANDSHAKE, 0, thrown);
        }
    }
}
