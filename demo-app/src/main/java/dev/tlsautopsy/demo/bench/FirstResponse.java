package dev.tlsautopsy.demo.bench;

import dev.tlsautopsy.demo.tls.TlsContexts;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLSocket;

/**
 * Prints the milliseconds from JVM start to the first HTTPS response served by a real server: a Netty
 * HTTP server behind SslHandler (NIO, the JDK's TLS) starts at once and answers one request from an
 * SSLSocket client. Run it with and without the agent to see what the agent adds to a server's start.
 */
public final class FirstResponse {

    private FirstResponse() {
    }

    public static void main(String[] args) throws Exception {
        TlsContexts tls = new TlsContexts();
        SslContext ssl = SslContextBuilder.forServer(tls.serverKeys).sslProvider(SslProvider.JDK).build();
        EventLoopGroup group = new NioEventLoopGroup(1);
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()), new HttpServerCodec(),
                                    new HttpObjectAggregator(1 << 16), new SimpleChannelInboundHandler<FullHttpRequest>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
                                            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                    HttpResponseStatus.OK, Unpooled.copiedBuffer("ok\n", StandardCharsets.US_ASCII));
                                            response.headers().set(HttpHeaderNames.CONTENT_LENGTH, 3);
                                            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                                        }
                                    });
                        }
                    }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            try (SSLSocket s = (SSLSocket) tls.client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port)) {
                OutputStream out = s.getOutputStream();
                out.write(("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String status = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                long done = System.currentTimeMillis();
                if (status == null || !status.startsWith("HTTP/1.1 200")) {
                    throw new IllegalStateException("the server answered " + status);
                }
                long start = ManagementFactory.getRuntimeMXBean().getStartTime();
                System.out.println("first response " + (done - start) + " ms after JVM start");
                System.out.println("cpu " + ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis()).orElse(-1L)
                        + " ms");
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
