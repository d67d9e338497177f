package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.tlsautopsy.bootstrap.Hooks;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Alerts on the wire. Received: {@code Alert$AlertConsumer.consume(ConnectionContext, ByteBuffer)}
 * sees every alert, level and description at the buffer's position (the only reliable
 * close_notify-received signal: {@code isInputCloseNotified} is also set by the socket's EOF
 * substitution). Sent: {@code encodeAlert(byte, byte)} of the socket and engine output records,
 * which drop the alert when the record is already closed. Checked on JDK 17.0.15 and 25.0.3.
 */
public final class AlertHooks {

    private AlertHooks() {
    }

    public static final class Received implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.Alert$AlertConsumer"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Consume.class).on(named("consume").and(takesArguments(2))));
        }

        static final class Consume {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.Argument(0) Object context, @Advice.Argument(1) ByteBuffer message) {
                if (Hooks.needsJsseLookup()) {
                    Hooks.jsseLookup(MethodHandles.lookup());
                }
                Hooks.alertReceived(context, message);
            }
        }
    }

    public static final class SentBySocket implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLSocketOutputRecord"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Encode.class).on(named("encodeAlert").and(takesArguments(2))));
        }

        static final class Encode {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.FieldValue("isClosed") boolean closed) {
                return closed ? null : Hooks.alertEncoding();
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Argument(0) byte level, @Advice.Argument(1) byte description,
                             @Advice.Enter Object token, @Advice.Thrown Throwable thrown) {
                Hooks.alertEncoded(token, level, description, thrown);
            }
        }
    }

    public static final class SentByEngine implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLEngineOutputRecord"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Encode.class).on(named("encodeAlert").and(takesArguments(2))));
        }

        static final class Encode {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.FieldValue("isClosed") boolean closed,
                                @Advice.FieldValue("isCloseWaiting") boolean closeWaiting) {
                return closed || closeWaiting ? null : Hooks.alertEncoding();
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Argument(0) byte level, @Advice.Argument(1) byte description,
                             @Advice.Enter Object token, @Advice.Thrown Throwable thrown) {
                Hooks.alertEncoded(token, level, description, thrown);
            }
        }
    }
}
