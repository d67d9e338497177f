package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.tlsautopsy.bootstrap.Hooks;
import java.lang.invoke.MethodHandles;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * {@code sun.security.ssl.TransportContext}, shared by SSLSocket and SSLEngine: handshake start
 * ({@code kickstart()}), completion ({@code finishHandshake()}), and the two places alerts are
 * written from ({@code warning(Alert)} and {@code fatal(Alert, String, boolean, Throwable)}, which the
 * other fatal overloads call). Checked on JDK 17.0.15 and 25.0.3; reads {@code transport},
 * {@code conSession} and {@code closeReason}.
 */
public final class TransportContextHook implements TypeHook {

    @Override public String group() { return "jsse"; }

    @Override public String typeName() { return "sun.security.ssl.TransportContext"; }

    @Override
    public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
        return b.visit(Advice.to(Kickstart.class).on(named("kickstart").and(takesArguments(0))))
                .visit(Advice.to(FinishHandshake.class).on(named("finishHandshake").and(takesArguments(0))))
                .visit(Advice.to(Warning.class).on(named("warning").and(takesArguments(1))))
                .visit(Advice.to(Fatal.class).on(named("fatal").and(takesArguments(4))));
    }

    static final class Kickstart {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static void enter(@Advice.FieldValue("transport") Object transport) {
            if (Hooks.needsJsseLookup()) {
                Hooks.jsseLookup(MethodHandles.lookup());
            }
            Hooks.handshakeStarting(transport);
        }
    }

    static final class FinishHandshake {
        @Advice.OnMethodExit(suppress = Throwable.class)
        static void exit(@Advice.FieldValue("transport") Object transport, @Advice.FieldValue("conSession") Object session) {
            Hooks.handshakeFinished(transport, session);
        }
    }

    static final class Warning {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.FieldValue("transport") Object transport) {
            return Hooks.enterAlertScope(transport);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object previous) {
            Hooks.exitAlertScope(previous);
        }
    }

    static final class Fatal {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.FieldValue("transport") Object transport, @Advice.Argument(0) Object alert,
                            @Advice.Argument(2) boolean received, @Advice.Argument(3) Throwable cause,
                            @Advice.FieldValue("closeReason") Object closeReason) {
            Hooks.fatal(transport, alert, cause, received, closeReason != null);
            return Hooks.enterAlertScope(transport);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.FieldValue("transport") Object transport, @Advice.Enter Object previous) {
            Hooks.exitAlertScope(previous);
            Hooks.fatalDone(transport);
        }
    }
}
