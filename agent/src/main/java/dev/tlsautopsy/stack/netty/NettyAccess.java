package dev.tlsautopsy.stack.netty;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;

/**
 * Reads Netty objects through reflection on public (or, for the decoder's buffer, protected) methods,
 * so that the agent never links against Netty: {@code ChannelHandlerContext.channel()},
 * {@code Channel.remoteAddress()}/{@code localAddress()}, and {@code ByteToMessageDecoder.actualReadableBytes()}
 * (a partial TLS record waiting in SslHandler's cumulation with the JDK engine). Checked on 4.1.130 and 4.2.20.
 */
final class NettyAccess {

    /** Each accessor's no-argument method, by name, per class: found once, then called as a method handle. */
    private static final class Accessor extends ClassValue<MethodHandle> {
        private final String name;

        Accessor(String name) {
            this.name = name;
        }

        @Override
        protected MethodHandle computeValue(Class<?> type) {
            Method m = find(type, name);
            try {
                return m == null ? null
                        : MethodHandles.lookup().unreflect(m).asType(MethodType.genericMethodType(1));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        /**
         * {@code target.name()}, or null. Keyed by class, not by a name built per call: a profile of Netty
         * churn had a quarter of the agent's samples in building that key and in {@code Method.invoke}.
         */
        Object call(Object target) {
            if (target == null) {
                return null;
            }
            MethodHandle h = get(target.getClass());
            if (h == null) {
                return null;
            }
            try {
                return (Object) h.invokeExact(target);
            } catch (Throwable e) {
                return null;
            }
        }
    }

    private static final Accessor CHANNEL = new Accessor("channel");
    private static final Accessor JAVA_CHANNEL = new Accessor("javaChannel");
    private static final Accessor HANDLER = new Accessor("handler");
    private static final Accessor ENGINE = new Accessor("engine");
    private static final Accessor PIPELINE = new Accessor("pipeline");
    private static final Accessor TO_MAP = new Accessor("toMap");
    private static final Accessor UNSAFE = new Accessor("unsafe");
    private static final Accessor OUTBOUND_BUFFER = new Accessor("outboundBuffer");
    private static final Accessor TOTAL_PENDING_WRITE_BYTES = new Accessor("totalPendingWriteBytes");
    private static final Accessor CLOSE_NOTIFY_FLUSH_TIMEOUT = new Accessor("getCloseNotifyFlushTimeoutMillis");
    private static final Accessor ACTUAL_READABLE_BYTES = new Accessor("actualReadableBytes");
    private static final Accessor REMOTE_ADDRESS = new Accessor("remoteAddress");
    private static final Accessor LOCAL_ADDRESS = new Accessor("localAddress");

    private NettyAccess() {
    }

    private static Method find(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Method m : c.getDeclaredMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 0) {
                    try {
                        m.setAccessible(true);
                        return m;
                    } catch (RuntimeException e) {
                        return null;
                    }
                }
            }
        }
        for (Class<?> i : type.getInterfaces()) {
            Method m = find(i, name);
            if (m != null) {
                return m;
            }
        }
        return null;
    }

    static Object channel(Object ctx) {
        return CHANNEL.call(ctx);
    }

    /** The JDK {@code SocketChannel} under an NIO Netty channel ({@code AbstractNioChannel.javaChannel()}). */
    static Object javaChannel(Object nettyChannel) {
        return JAVA_CHANNEL.call(nettyChannel);
    }

    static Object handler(Object ctx) {
        return HANDLER.call(ctx);
    }

    /** {@code SslHandler.engine()}. */
    static Object engine(Object sslHandler) {
        return ENGINE.call(sslHandler);
    }

    /** The channel an SslHandler is in, through its context ({@code SslHandler.ctx}, set when it was added). */
    static Object handlerChannel(Object sslHandler) {
        try {
            for (Class<?> c = sslHandler.getClass(); c != null; c = c.getSuperclass()) {
                if (c.getName().endsWith(".handler.ssl.SslHandler")) {
                    java.lang.reflect.Field f = c.getDeclaredField("ctx");
                    f.setAccessible(true);
                    return channel(f.get(sslHandler));
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not this Netty
        }
        return null;
    }

    /** The SslHandler in a channel's pipeline ({@code pipeline().toMap()}), or null. */
    static Object sslHandlerOf(Object channel) {
        Object map = TO_MAP.call(PIPELINE.call(channel));
        if (map instanceof Map) {
            for (Object h : ((Map<?, ?>) map).values()) {
                for (Class<?> c = h == null ? null : h.getClass(); c != null; c = c.getSuperclass()) {
                    if (c.getName().endsWith(".handler.ssl.SslHandler")) {
                        return h;
                    }
                }
            }
        }
        return null;
    }

    /** Bytes written to the channel but not yet to the socket ({@code ChannelOutboundBuffer}); -1 if unknown. */
    static long pendingOutboundBytes(Object channel) {
        Object n = TOTAL_PENDING_WRITE_BYTES.call(OUTBOUND_BUFFER.call(UNSAFE.call(channel)));
        return n instanceof Long ? (Long) n : -1;
    }

    /** SslHandler's closeNotifyFlushTimeoutMillis (Netty's default, 3000, if it cannot be read). */
    static long closeNotifyFlushTimeoutMillis(Object sslHandler) {
        Object n = CLOSE_NOTIFY_FLUSH_TIMEOUT.call(sslHandler);
        return n instanceof Long ? (Long) n : 3000;
    }

    static int bufferedBytes(Object sslHandler) {
        Object n = ACTUAL_READABLE_BYTES.call(sslHandler);
        return n instanceof Integer ? (Integer) n : 0;
    }

    static void describe(dev.tlsautopsy.track.Evidence ev, Object channel) {
        SocketAddress remote = (SocketAddress) REMOTE_ADDRESS.call(channel);
        SocketAddress local = (SocketAddress) LOCAL_ADDRESS.call(channel);
        if (remote instanceof InetSocketAddress) {
            InetSocketAddress r = (InetSocketAddress) remote;
            ev.peerHost = r.getHostString();
            ev.peerPort = r.getPort();
        }
        if (local instanceof InetSocketAddress) {
            ev.localPort = ((InetSocketAddress) local).getPort();
        }
    }
}
