package dev.tlsautopsy.instrument;

import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.tlsautopsy.bootstrap.Hooks;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.DynamicType;

/**
 * Netty's {@code io.netty.handler.ssl.SslHandler} and the channel below it, matched by name (the agent
 * never loads Netty). Checked on Netty 4.1.130 and 4.2.20: every constructor sets the final field
 * {@code engine}; {@code handlerAdded(ctx)}, {@code close(ctx, promise)}, the private
 * {@code closeOutbound0(promise)}, {@code channelInactive(ctx)}, {@code exceptionCaught(ctx, cause)},
 * the private five-argument {@code setHandshakeFailure} (handshake timeouts land here) and
 * {@code handlerRemoved0(ctx)} have the same shapes in both lines. The channel: a local close goes
 * through {@code AbstractChannel$AbstractUnsafe.close(promise)}; the NIO read loop calls
 * {@code AbstractNioByteChannel$NioByteUnsafe.closeOnRead(pipeline)} on the peer's EOF.
 */
public final class NettyHooks {

    private NettyHooks() {
    }

    public static final class Handler implements TypeHook {
        @Override public String group() { return "netty"; }

        @Override public String typeName() { return "io.netty.handler.ssl.SslHandler"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Created.class).on(isConstructor()))
                    .visit(Advice.to(Added.class).on(named("handlerAdded").and(takesArguments(1))))
                    .visit(Advice.to(Closing.class).on(named("close").and(takesArguments(2))
                            .or(named("closeOutbound0").and(takesArguments(1)))))
                    .visit(Advice.to(Inactive.class).on(named("channelInactive").and(takesArguments(1))))
                    .visit(Advice.to(Caught.class).on(named("exceptionCaught").and(takesArguments(2))))
                    .visit(Advice.to(HandshakeFailure.class).on(named("setHandshakeFailure").and(takesArguments(5))))
                    .visit(Advice.to(Removed.class).on(named("handlerRemoved0").and(takesArguments(1))));
        }

        static final class Created {
            @Advice.OnMethodExit(suppress = Throwable.class)
            static void exit(@Advice.This Object handler, @Advice.FieldValue("engine") Object engine) {
                Hooks.netty(Hooks.NETTY_HANDLER_CREATED, handler, engine);
            }
        }

        static final class Added {
            @Advice.OnMethodExit(suppress = Throwable.class)
            static void exit(@Advice.This Object handler, @Advice.Argument(0) Object ctx) {
                Hooks.netty(Hooks.NETTY_HANDLER_ADDED, handler, ctx);
            }
        }

        static final class Closing {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.This Object handler) {
                Hooks.netty(Hooks.NETTY_CLOSING, handler, null);
            }
        }

        static final class Inactive {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.This Object handler) {
                Hooks.netty(Hooks.NETTY_INACTIVE, handler, null);
            }
        }

        static final class Caught {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.This Object handler, @Advice.Argument(1) Throwable cause) {
                Hooks.netty(Hooks.NETTY_EXCEPTION, handler, cause);
            }
        }

        static final class HandshakeFailure {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.This Object handler, @Advice.Argument(1) Throwable cause) {
                Hooks.netty(Hooks.NETTY_HANDSHAKE_FAILURE, handler, cause);
            }
        }

        static final class Removed {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.This Object handler) {
                Hooks.netty(Hooks.NETTY_REMOVED, handler, null);
            }
        }
    }

    /** {@code SslUtils.handleHandshakeFailure(ctx, cause, notify)}: where SslHandler's handshake timeout ends up. */
    public static final class HandshakeFailure implements TypeHook {
        @Override public String group() { return "netty"; }

        @Override public String typeName() { return "io.netty.handler.ssl.SslUtils"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Handle.class).on(named("handleHandshakeFailure").and(takesArguments(3))));
        }

        static final class Handle {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.Argument(0) Object ctx, @Advice.Argument(1) Throwable cause) {
                Hooks.netty(Hooks.NETTY_CONTEXT_HANDSHAKE_FAILURE, ctx, cause);
            }
        }
    }

    public static final class ChannelClose implements TypeHook {
        @Override public String group() { return "netty"; }

        @Override public String typeName() { return "io.netty.channel.AbstractChannel$AbstractUnsafe"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(Close.class).on(named("close").and(takesArguments(1))));
        }

        static final class Close {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.FieldValue("this$0") Object channel) {
                Hooks.netty(Hooks.NETTY_CHANNEL_CLOSING, channel, null);
            }
        }
    }

    public static final class PeerEof implements TypeHook {
        @Override public String group() { return "netty"; }

        @Override public String typeName() { return "io.netty.channel.nio.AbstractNioByteChannel$NioByteUnsafe"; }

        @Override
        public DynamicType.Builder<?> apply(DynamicType.Builder<?> b) {
            return b.visit(Advice.to(CloseOnRead.class).on(named("closeOnRead").and(takesArguments(1))));
        }

        static final class CloseOnRead {
            @Advice.OnMethodEnter(suppress = Throwable.class)
            static void enter(@Advice.FieldValue("this$0") Object channel) {
                Hooks.netty(Hooks.NETTY_CHANNEL_PEER_EOF, channel, null);
            }
        }
    }
}
