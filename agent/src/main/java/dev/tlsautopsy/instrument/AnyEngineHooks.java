package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.isPublic;
import static net.bytebuddy.matcher.ElementMatchers.nameContains;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.tlsautopsy.bootstrap.Hooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Any {@code javax.net.ssl.SSLEngine} that is not the JDK's (see {@link #matcher()} for which) (Netty's OpenSSL/BoringSSL engine,
 * BouncyCastle): the {@code wrap}/{@code unwrap} overloads it declares, {@code closeInbound()} and
 * {@code closeOutbound()}. Overloads call one another and wrapper engines call inner ones, so a
 * per-thread depth counts only the outermost call. Checked with netty-tcnative 2.0.84.
 */
public final class AnyEngineHooks implements TypeHook {

    @Override public String group() { return "engine"; }

    @Override public String typeName() { return "(any SSLEngine)"; }

    /**
     * Resolving a type's hierarchy costs a class-file read per superclass, for every class loaded; so
     * only classes named like an engine are checked (Netty's ReferenceCountedOpenSslEngine and
     * JdkSslEngine, BouncyCastle's ProvSSLEngine, Conscrypt's ConscryptEngine, WildFly's OpenSSLEngine).
     * An SSLEngine subclass without "Engine" in its name is not instrumented.
     */
    @Override
    public ElementMatcher<TypeDescription> matcher() {
        return nameContains("Engine").and(not(nameStartsWith("java."))).and(not(nameStartsWith("javax.")))
                .and(not(nameStartsWith("jdk.")))
                .and(not(nameStartsWith("sun."))).and(not(nameStartsWith("com.sun.")))
                .and(not(nameStartsWith("dev.tlsautopsy."))).and(not(isInterface()))
                .and(hasSuperType(named("javax.net.ssl.SSLEngine")));
    }

    @Override
    public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
        // only the public SSLEngine API shapes: a provider's private helpers of the same name may take
        // other arguments or return other things
        return b.visit(Advice.to(Wrap.class).on(named("wrap").and(isPublic()).and(not(isAbstract()))
                        .and(returns(named("javax.net.ssl.SSLEngineResult")))))
                .visit(Advice.to(Unwrap.class).on(named("unwrap").and(isPublic()).and(not(isAbstract()))
                        .and(returns(named("javax.net.ssl.SSLEngineResult")))
                        .and(takesArgument(0, named("java.nio.ByteBuffer")).or(takesArgument(0, named("java.nio.ByteBuffer[]"))))))
                .visit(Advice.to(CloseInbound.class).on(named("closeInbound").and(takesArguments(0)).and(not(isAbstract()))))
                .visit(Advice.to(CloseOutbound.class).on(named("closeOutbound").and(takesArguments(0)).and(not(isAbstract()))));
    }

    static final class Wrap {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            return Hooks.anyEngineEnter(engine, Hooks.ENGINE_WRAP, null);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object token, @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object result,
                         @Advice.Thrown Throwable thrown) {
            Hooks.anyEngineExit(token, result, thrown);
        }
    }

    static final class Unwrap {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine, @Advice.Argument(0) Object sources) {
            return Hooks.anyEngineEnter(engine, Hooks.ENGINE_UNWRAP, sources);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object token, @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object result,
                         @Advice.Thrown Throwable thrown) {
            Hooks.anyEngineExit(token, result, thrown);
        }
    }

    static final class CloseInbound {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            return Hooks.anyEngineEnter(engine, Hooks.ENGINE_CLOSE_INBOUND, null);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object token, @Advice.Thrown Throwable thrown) {
            Hooks.anyEngineExit(token, null, thrown);
        }
    }

    static final class CloseOutbound {
        @Advice.OnMethodEnter(suppress = Throwable.class)
        static Object enter(@Advice.This Object engine) {
            return Hooks.anyEngineEnter(engine, Hooks.ENGINE_CLOSE_OUTBOUND, null);
        }

        @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
        static void exit(@Advice.Enter Object token, @Advice.Thrown Throwable thrown) {
            Hooks.anyEngineExit(token, null, thrown);
        }
    }
}
