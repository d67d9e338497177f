package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.proxy.FaultProxy;
import dev.tlsautopsy.demo.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Netty on its native transports (epoll and io_uring), where a peer's FIN never passes through the NIO
 * read loop: client and server both Netty with SslHandler, the JDK engine on epoll and the OpenSSL
 * (BoringSSL) engine on io_uring. The server answers "ping" with "pong" and then, per case, closes
 * with close_notify, closes its channel below TLS, or resets it.
 */
final class NettyCases {

    enum Transport {
        EPOLL, IO_URING;

        IoHandlerFactory handler() {
            return this == EPOLL ? EpollIoHandler.newFactory() : IoUringIoHandler.newFactory();
        }

        Class<? extends Channel> client() {
            return this == EPOLL ? EpollSocketChannel.class : IoUringSocketChannel.class;
        }

        Class<? extends ServerChannel> server() {
            return this == EPOLL ? EpollServerSocketChannel.class : IoUringServerSocketChannel.class;
        }

        SslProvider engine() {
            return this == EPOLL ? SslProvider.JDK : SslProvider.OPENSSL;
        }

        String label() {
            return this == EPOLL ? "epoll" : "io_uring";
        }

        /** Why this machine cannot run the transport (a kernel or a seccomp profile refusing it), or null. */
        String unavailable() {
            if (this == EPOLL) {
                return io.netty.channel.epoll.Epoll.isAvailable() ? null
                        : "epoll unavailable: " + io.netty.channel.epoll.Epoll.unavailabilityCause();
            }
            return io.netty.channel.uring.IoUring.isAvailable() ? null
                    : "io_uring unavailable: " + io.netty.channel.uring.IoUring.unavailabilityCause();
        }
    }

    /** How the connection ends after the server's answer (or instead of it). */
    enum End {
        /** The server closes with close_notify. */
        CLOSE_NOTIFY,
        /** The client closes with close_notify. */
        CLIENT_CLOSE,
        /** The server closes its channel below TLS (killed: FIN, no close_notify). */
        BELOW_TLS,
        /** The server resets its channel. */
        RESET,
        /** A proxy cuts the answer's record in its middle. */
        CUT_MID_RECORD,
        /** A proxy flips a bit in the answer's record. */
        FLIP_BIT,
        /** The client does not trust the server's certificate. */
        UNTRUSTED
    }

    private NettyCases() {
    }

    static List<Case> all() {
        List<Case> out = new java.util.ArrayList<>();
        for (Transport t : Transport.values()) {
            String lib = "Netty " + t.label();
            String n = "netty-" + t.label();
            out.add(new Case(n + "-clean", lib, "the server closes with close_notify after its answer (" + t.engine()
                    + " engine)", 2, r -> run(r, t, End.CLOSE_NOTIFY)));
            out.add(new Case(n + "-client-close", lib, "the client closes with close_notify after the answer", 2,
                    r -> run(r, t, End.CLIENT_CLOSE)));
            out.add(new Case(n + "-truncated", lib, "the server closes its channel below TLS after its answer (killed)", 2,
                    r -> run(r, t, End.BELOW_TLS)));
            out.add(new Case(n + "-reset", lib, "the server resets its channel after its answer", 2,
                    r -> run(r, t, End.RESET)));
            out.add(new Case(n + "-short-read", lib, "a proxy cuts the answer's record in its middle", 2,
                    r -> run(r, t, End.CUT_MID_RECORD)));
            out.add(new Case(n + "-bad-record-mac", lib, "a proxy flips a bit in the answer's record", 2,
                    r -> run(r, t, End.FLIP_BIT)));
            out.add(new Case(n + "-handshake-failure", lib, "the client does not trust the server's certificate", 2,
                    r -> run(r, t, End.UNTRUSTED)));
        }
        return out;
    }

    static SslContext context(TlsContexts tls, boolean server, SslProvider provider) throws Exception {
        return context(tls, server, provider, true);
    }

    static SslContext context(TlsContexts tls, boolean server, SslProvider provider, boolean trusting) throws Exception {
        SslContextBuilder b = server ? SslContextBuilder.forServer(tls.serverKeys)
                : SslContextBuilder.forClient().trustManager(trusting ? tls.clientTrust : tls.otherTrust);
        return b.sslProvider(provider).build();
    }

    private static void run(Case.Run r, Transport t, End end) throws Exception {
        String unavailable = t.unavailable();
        if (unavailable != null) {
            r.skip(unavailable);
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("netty-" + t.label(), true),
                t.handler());
        try {
            SslContext serverTls = context(r.tls, true, t.engine());
            SslContext clientTls = context(r.tls, false, t.engine(), end != End.UNTRUSTED);
            FaultProxy[] proxy = new FaultProxy[1];
            // the server's handler below SslHandler, for a reset sent once the client has read the answer
            CompletableFuture<ChannelHandlerContext> serverBelow = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(group).channel(t.server())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ChannelHandlerContext[] below = new ChannelHandlerContext[1];
                            ch.pipeline().addLast(new ChannelDuplexHandler() {
                                @Override
                                public void handlerAdded(ChannelHandlerContext ctx) {
                                    below[0] = ctx;
                                    serverBelow.complete(ctx);
                                }
                            });
                            ch.pipeline().addLast(serverTls.newHandler(ch.alloc()));
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ((ByteBuf) msg).release();
                                    if (end == End.CUT_MID_RECORD || end == End.FLIP_BIT) {
                                        try {
                                            proxy[0].arm(end == End.FLIP_BIT ? FaultProxy.Fault.FLIP_BIT
                                                    : FaultProxy.Fault.CUT_MID_BODY);
                                        } catch (Exception e) {
                                            throw new IllegalStateException(e);
                                        }
                                    }
                                    ctx.writeAndFlush(Unpooled.copiedBuffer("pong", StandardCharsets.US_ASCII))
                                            .addListener(f -> {
                                                if (end == End.CLIENT_CLOSE || end == End.CUT_MID_RECORD
                                                        || end == End.FLIP_BIT || end == End.RESET) {
                                                    // a reset waits for the client to read the answer: one
                                                    // that came first would discard it unread
                                                    return;
                                                }
                                                if (end == End.CLOSE_NOTIFY) {
                                                    ctx.channel().close();
                                                } else {
                                                    // a handler below SslHandler closes: no close_notify
                                                    below[0].close();
                                                }
                                            });
                                }
                            });
                        }
                    }).bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
            int serverPort = r.port(((java.net.InetSocketAddress) server.localAddress()).getPort());
            if (end == End.CUT_MID_RECORD || end == End.FLIP_BIT) {
                proxy[0] = new FaultProxy(serverPort);
            }
            int port = proxy[0] != null ? r.port(proxy[0].port()) : serverPort;
            CompletableFuture<String> answer = new CompletableFuture<>();
            CompletableFuture<String> ended = new CompletableFuture<>();
            Channel client = new Bootstrap().group(group).channel(t.client()).handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(clientTls.newHandler(ch.alloc(), "localhost", port));
                    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            answer.complete(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                            ((ByteBuf) msg).release();
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            ended.complete(cause.getClass().getName() + ": " + cause.getMessage());
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext ctx) {
                            ended.complete("inactive");
                        }
                    });
                }
            }).connect(InetAddress.getLoopbackAddress(), port).sync().channel();
            client.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII));
            if (end == End.UNTRUSTED || end == End.CUT_MID_RECORD || end == End.FLIP_BIT) {
                r.saw("then: " + ended.get(10, TimeUnit.SECONDS));
            } else {
                r.saw("answer: " + answer.get(10, TimeUnit.SECONDS));
                if (end == End.CLIENT_CLOSE) {
                    client.close().sync();
                }
                if (end == End.RESET) {
                    // below SslHandler, with SO_LINGER 0: a TCP reset, no close_notify
                    ChannelHandlerContext below = serverBelow.get(10, TimeUnit.SECONDS);
                    below.channel().eventLoop().submit(() -> {
                        below.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                        below.close();
                    }).sync();
                }
                r.saw("then: " + ended.get(10, TimeUnit.SECONDS));
            }
            client.close().sync();
            Thread.sleep(200);
            server.close().sync();
            if (proxy[0] != null) {
                proxy[0].close();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
