package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.tlsautopsy.bootstrap.Hooks;
import java.lang.invoke.MethodHandles;
import java.io.EOFException;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * The JDK's SSLSocket ({@code sun.security.ssl.SSLSocketImpl}), checked on JDK 17.0.15 and 25.0.3.
 * Application calls: {@code startHandshake()}, {@code close()}, {@code shutdownOutput()}, and the
 * streams' {@code AppInputStream.read(byte[], int, int)} / {@code AppOutputStream.write(byte[], int, int)}
 * (reached through {@code this$0}). Every peer EOF funnels into the private {@code handleEOF(EOFException)},
 * which by default turns it into a silent -1; the record reader's {@code readHeader()} (with
 * {@code headerOff} > 0 after a partial header) and {@code readFully(int)} tell a record boundary from
 * the middle of a record.
 */
public final class SslSocketHooks {

    private SslSocketHooks() {
    }

    public static final class Socket implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLSocketImpl"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(HandleEof.class).on(named("handleEOF").and(takesArguments(1))))
                    .visit(Advice.to(StartHandshake.class).on(named("startHandshake").and(takesArguments(0))))
                    .visit(Advice.to(Close.class).on(named("close").and(takesArguments(0))))
                    .visit(Advice.to(ShutdownOutput.class).on(named("shutdownOutput").and(takesArguments(0))));
        }

        static final class HandleEof {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.This Object socket) {
                Hooks.peerEof(socket);
            }
        }

        static final class StartHandshake {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.This Object socket) {
                return Hooks.callEnter(socket, Hooks.SOCKET_HANDSHAKE);
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
                Hooks.callExit(evidence, Hooks.SOCKET_HANDSHAKE, 0, thrown);
            }
        }

        static final class Close {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.This Object socket) {
                if (Hooks.needsJsseLookup()) {
                    Hooks.jsseLookup(MethodHandles.lookup());
                }
                return Hooks.callEnter(socket, Hooks.SOCKET_CLOSE);
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
                Hooks.callExit(evidence, Hooks.SOCKET_CLOSE, 0, thrown);
            }
        }

        static final class ShutdownOutput {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.This Object socket) {
                return Hooks.callEnter(socket, Hooks.SOCKET_SHUTDOWN_OUTPUT);
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Enter Object evidence, @Advice.Thrown Throwable thrown) {
                Hooks.callExit(evidence, Hooks.SOCKET_SHUTDOWN_OUTPUT, 0, thrown);
            }
        }
    }

    public static final class Input implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLSocketImpl$AppInputStream"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Read.class).on(named("read").and(takesArguments(3))));
        }

        static final class Read {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.FieldValue("this$0") Object socket) {
                if (Hooks.needsJsseLookup()) {
                    Hooks.jsseLookup(MethodHandles.lookup());
                }
                return Hooks.callEnter(socket, Hooks.SOCKET_READ);
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Enter Object evidence, @Advice.Return int n, @Advice.Thrown Throwable thrown) {
                Hooks.callExit(evidence, Hooks.SOCKET_READ, n, thrown);
            }
        }
    }

    public static final class Output implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLSocketImpl$AppOutputStream"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Write.class).on(named("write").and(takesArguments(3))));
        }

        static final class Write {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static Object enter(@Advice.FieldValue("this$0") Object socket) {
                if (Hooks.needsJsseLookup()) {
                    Hooks.jsseLookup(MethodHandles.lookup());
                }
                return Hooks.callEnter(socket, Hooks.SOCKET_WRITE);
            }

            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Enter Object evidence, @Advice.Argument(2) int length, @Advice.Thrown Throwable thrown) {
                Hooks.callExit(evidence, Hooks.SOCKET_WRITE, length, thrown);
            }
        }
    }

    public static final class RecordReader implements TypeHook {
        @Override public String group() { return "jsse"; }

        @Override public String typeName() { return "sun.security.ssl.SSLSocketInputRecord"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(ReadHeader.class).on(named("readHeader").and(takesArguments(0))))
                    .visit(Advice.to(ReadFully.class).on(named("readFully").and(takesArguments(1))));
        }

        static final class ReadHeader {
            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.FieldValue("headerOff") int headerOff, @Advice.Thrown Throwable thrown) {
                if (thrown instanceof EOFException) {
                    Hooks.recordEof(headerOff > 0);
                }
            }
        }

        static final class ReadFully {
            @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
            static void exit(@Advice.Thrown Throwable thrown) {
                if (thrown instanceof EOFException) {
                    Hooks.recordEof(true);
                }
            }
        }
    }
}
