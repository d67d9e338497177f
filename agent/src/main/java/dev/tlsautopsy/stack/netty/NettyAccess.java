package dev.tlsautopsy.stack.netty;

import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads Netty objects through reflection on public (or, for the decoder's buffer, protected) methods,
 * so that the agent never links against Netty: {@code ChannelHandlerContext.channel()},
 * {@code Channel.remoteAddress()}/{@code localAddress()}, and {@code ByteToMessageDecoder.actualReadableBytes()}
 * (a partial TLS record waiting in SslHandler's cumulation with the JDK engine). Checked on 4.1.130 and 4.2.20.
 */
final class NettyAccess {

    private static final Map<String, Method> METHODS = new ConcurrentHashMap<>();

    private NettyAccess() {
    }

    private static Object call(Object target, String name) {
        if (target == null) {
            return null;
        }
        try {
            String key = target.getClass().getName() + "#" + name;
            Method m = METHODS.get(key);
            if (m == null) {
                m = find(target.getClass(), name);
                if (m == null) {
                    return null;
                }
                METHODS.putIfAbsent(key, m);
            }
            return m.invoke(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
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
        return call(ctx, "channel");
    }

    /** The JDK {@code SocketChannel} under an NIO Netty channel ({@code AbstractNioChannel.javaChannel()}). */
    static Object javaChannel(Object nettyChannel) {
        return call(nettyChannel, "javaChannel");
    }

    static Object handler(Object ctx) {
        return call(ctx, "handler");
    }

    /** {@code SslHandler.engine()}. */
    static Object engine(Object sslHandler) {
        return call(sslHandler, "engine");
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
        Object map = call(call(channel, "pipeline"), "toMap");
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
        Object n = call(call(call(channel, "unsafe"), "outboundBuffer"), "totalPendingWriteBytes");
        return n instanceof Long ? (Long) n : -1;
    }

    /** SslHandler's closeNotifyFlushTimeoutMillis (Netty's default, 3000, if it cannot be read). */
    static long closeNotifyFlushTimeoutMillis(Object sslHandler) {
        Object n = call(sslHandler, "getCloseNotifyFlushTimeoutMillis");
        return n instanceof Long ? (Long) n : 3000;
    }

    static int bufferedBytes(Object sslHandler) {
        Object n = call(sslHandler, "actualReadableBytes");
        return n instanceof Integer ? (Integer) n : 0;
    }

    static void describe(dev.tlsautopsy.track.Evidence ev, Object channel) {
        SocketAddress remote = (SocketAddress) call(channel, "remoteAddress");
        SocketAddress local = (SocketAddress) call(channel, "localAddress");
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
