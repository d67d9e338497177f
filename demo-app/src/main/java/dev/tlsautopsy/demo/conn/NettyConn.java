package dev.tlsautopsy.demo.conn;

import dev.tlsautopsy.demo.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManagerFactory;

/**
 * A TLS connection over Netty's SslHandler (JDK or OpenSSL engine), driven like the blocking
 * connections: what the pipeline delivers (data, the end, exceptions) is queued for {@link #read}.
 * A handler below SslHandler lets a scenario close the channel under TLS.
 */
public final class NettyConn implements TlsConn {

    public static final EventLoopGroup GROUP = new NioEventLoopGroup(2, new DefaultThreadFactory("scenario-netty", true));
    private static final Object END = new Object();

    private final BlockingQueue<Object> inbound = new LinkedBlockingQueue<>();
    private volatile Channel channel;
    private volatile ChannelHandlerContext below;
    private volatile SslHandler ssl;
    private ByteBuf pending;
    private int readTimeout;

    public static SslContext context(TlsContexts tls, boolean server, SslProvider provider, String protocol,
                              TrustManagerFactory trust) throws IOException {
        SslContextBuilder b = server ? SslContextBuilder.forServer(tls.serverKeys) : SslContextBuilder.forClient()
                .trustManager(trust);
        return b.sslProvider(provider).protocols(protocol).build();
    }

    private void pipeline(Channel ch, SslHandler handler) {
        ssl = handler;
        ch.pipeline().addLast("below", new ChannelDuplexHandler() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                below = ctx;
            }
        });
        ch.pipeline().addLast("tls", handler);
        ch.pipeline().addLast("app", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                inbound.add(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof SslCloseCompletionEvent && ((SslCloseCompletionEvent) evt).isSuccess()) {
                    inbound.add(END);
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                inbound.add(END);
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                inbound.add(cause);
            }
        });
    }

    public static NettyConn client(SslContext ctx, int port) throws IOException {
        return client(ctx, port, 0);
    }

    public static NettyConn client(SslContext ctx, int port, int handshakeTimeoutMillis) throws IOException {
        NettyConn c = new NettyConn();
        ChannelFuture f = new Bootstrap().group(GROUP).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SslHandler h = ctx.newHandler(ch.alloc(), "localhost", port);
                        if (handshakeTimeoutMillis > 0) {
                            h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
                        }
                        c.pipeline(ch, h);
                    }
                }).connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        f.awaitUninterruptibly(10, TimeUnit.SECONDS);
        if (!f.isSuccess()) {
            throw new IOException("connect failed", f.cause());
        }
        c.channel = f.channel();
        return c;
    }

    /** A listening Netty server; {@link #accept()} hands out its connections one by one. */
    public static final class Server implements AutoCloseable {
        private final BlockingQueue<NettyConn> accepted = new LinkedBlockingQueue<>();
        private final Channel listener;
        public volatile int handshakeTimeoutMillis;

        public Server(SslContext ctx) throws IOException {
            ChannelFuture f = new ServerBootstrap().group(GROUP).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            NettyConn c = new NettyConn();
                            c.channel = ch;
                            SslHandler h = ctx.newHandler(ch.alloc());
                            if (handshakeTimeoutMillis > 0) {
                                h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
                            }
                            c.pipeline(ch, h);
                            accepted.add(c);
                        }
                    }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            f.awaitUninterruptibly(10, TimeUnit.SECONDS);
            if (!f.isSuccess()) {
                throw new IOException("bind failed", f.cause());
            }
            listener = f.channel();
        }

        public int port() {
            return ((InetSocketAddress) listener.localAddress()).getPort();
        }

        public NettyConn accept() throws IOException {
            try {
                NettyConn c = accepted.poll(20, TimeUnit.SECONDS);
                if (c == null) {
                    throw new IOException("no connection in 20 s");
                }
                return c;
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }

        @Override
        public void close() {
            listener.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
    }

    private static IOException asIo(Throwable t) {
        return t instanceof IOException ? (IOException) t : new IOException(t);
    }

    @Override
    public void handshake() throws IOException {
        if (!ssl.handshakeFuture().awaitUninterruptibly(20, TimeUnit.SECONDS)) {
            throw new IOException("handshake did not finish in 20 s");
        }
        if (!ssl.handshakeFuture().isSuccess()) {
            throw asIo(ssl.handshakeFuture().cause());
        }
    }

    @Override
    public void write(byte[] data) throws IOException {
        ChannelFuture f = channel.writeAndFlush(Unpooled.wrappedBuffer(data)).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw asIo(f.cause());
        }
    }

    @Override
    public int read(byte[] buf) throws IOException {
        if (pending == null) {
            Object o;
            try {
                o = inbound.poll(readTimeout > 0 ? readTimeout : 20_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            if (o == null) {
                throw new SocketTimeoutException("Read timed out");
            }
            if (o == END) {
                inbound.add(END);
                return -1;
            }
            if (o instanceof Throwable) {
                throw asIo((Throwable) o);
            }
            pending = (ByteBuf) o;
        }
        int n = Math.min(buf.length, pending.readableBytes());
        pending.readBytes(buf, 0, n);
        if (!pending.isReadable()) {
            pending.release();
            pending = null;
        }
        return n;
    }

    @Override
    public void setReadTimeout(int millis) {
        readTimeout = millis;
    }

    @Override
    public void close() throws IOException {
        channel.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    public void closeQuietly() {
        if (channel != null) {
            channel.close();
        }
    }

    /** Stops reading from the socket: the peer's writes pile up in the kernel's buffers. */
    public void stopReading() {
        channel.config().setAutoRead(false);
    }

    /** Queues {@code times} writes of {@code data} without waiting for any to reach the socket. */
    public void writeWithoutWaiting(byte[] data, int times) {
        for (int i = 0; i < times; i++) {
            channel.write(Unpooled.wrappedBuffer(data));
        }
        channel.flush();
    }

    public void closeNotifyFlushTimeout(long millis) {
        ssl.setCloseNotifyFlushTimeoutMillis(millis);
    }

    /** Takes SslHandler out of the pipeline; the channel stays open, now without TLS. */
    public void removeTls() throws IOException {
        try {
            channel.eventLoop().submit(() -> channel.pipeline().remove(ssl)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IOException("removing SslHandler failed: " + e, e);
        }
    }

    @Override
    public void closeTransport() {
        below.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
