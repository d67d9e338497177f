package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.tls.TlsContexts;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;

/**
 * Connections opened before the agent is attached, ended after it: a JDK SSLSocket server blocked in read
 * whose client then dies (FIN), Netty channels on epoll and io_uring whose handlers were created before
 * the attach (one server killed, one client closing cleanly), and an Apache HttpClient 5 async connection
 * to Jetty (engines over NIO) that the client closes. Their records say what was seen since the attach.
 */
final class PreAttach implements AutoCloseable {

    private final List<Integer> ports = new ArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private Socket plainClient;
    private SSLSocket socketClient;
    private CompletableFuture<String> blockedRead;
    private Channel epollServerChild;
    private ChannelHandlerContext epollServerBelow;
    private Channel uringClient;
    private HttpClientsUnderTest.Client async;
    private String skipped = "";

    List<Integer> ports() {
        return ports;
    }

    /** Opens every connection and leaves it open. */
    static PreAttach open(TlsContexts tls) throws Exception {
        PreAttach p = new PreAttach();
        p.socketPair(tls);
        p.netty(tls, NettyCases.Transport.EPOLL);
        p.skipped = NettyCases.Transport.IO_URING.unavailable() == null ? "" : NettyCases.Transport.IO_URING.unavailable();
        if (p.skipped.isEmpty()) {
            p.netty(tls, NettyCases.Transport.IO_URING);
        }
        Servers.Running jetty = Servers.jetty(tls, 60_000);
        p.resources.add(jetty);
        p.ports.add(jetty.port());
        p.async = HttpClientsUnderTest.async(tls.client, tls.clientTrust, true);
        p.async.get(HttpCases.url(jetty.port()));
        return p;
    }

    private void socketPair(TlsContexts tls) throws Exception {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        resources.add(listener);
        ports.add(listener.getLocalPort());
        CompletableFuture<SSLSocket> accepted = CompletableFuture.supplyAsync(() -> {
            try {
                Socket s = listener.accept();
                SSLSocket t = (SSLSocket) tls.server.getSocketFactory().createSocket(s, null, s.getPort(), true);
                t.setUseClientMode(false);
                t.startHandshake();
                return t;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        plainClient = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        SSLSocket client = (SSLSocket) tls.client.getSocketFactory().createSocket(plainClient, "localhost",
                listener.getLocalPort(), true);
        client.startHandshake();
        socketClient = client;
        client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        SSLSocket server = accepted.get(10, TimeUnit.SECONDS);
        InputStream in = server.getInputStream();
        in.readNBytes(4);
        // the server's reader is in read when the agent comes, and stays there until the client dies
        blockedRead = CompletableFuture.supplyAsync(() -> {
            try {
                return server.getClass().getSimpleName() + " read: " + in.read();
            } catch (Exception e) {
                return e.toString();
            } finally {
                try {
                    server.close();
                } catch (Exception ignored) {
                    // closed
                }
            }
        });
    }

    private void netty(TlsContexts tls, NettyCases.Transport t) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("pre-" + t.label(), true),
                t.handler());
        resources.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync());
        SslContext serverTls = NettyCases.context(tls, true, t.engine());
        SslContext clientTls = NettyCases.context(tls, false, t.engine());
        CompletableFuture<Channel> child = new CompletableFuture<>();
        Channel server = new ServerBootstrap().group(group).channel(t.server()).childHandler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ChannelDuplexHandler() {
                    @Override
                    public void handlerAdded(ChannelHandlerContext ctx) {
                        epollServerBelow = t == NettyCases.Transport.EPOLL ? ctx : epollServerBelow;
                    }
                });
                ch.pipeline().addLast(serverTls.newHandler(ch.alloc()));
                child.complete(ch);
            }
        }).bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        resources.add(() -> server.close().sync());
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        ports.add(port);
        CompletableFuture<Object> handshake = new CompletableFuture<>();
        Channel client = new Bootstrap().group(group).channel(t.client()).handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                io.netty.handler.ssl.SslHandler h = clientTls.newHandler(ch.alloc(), "localhost", port);
                h.handshakeFuture().addListener(f -> handshake.complete(f.isSuccess()));
                ch.pipeline().addLast(h);
            }
        }).connect(InetAddress.getLoopbackAddress(), port).sync().channel();
        handshake.get(10, TimeUnit.SECONDS);
        if (t == NettyCases.Transport.EPOLL) {
            epollServerChild = child.get(10, TimeUnit.SECONDS);
        } else {
            uringClient = client;
        }
    }

    /** Ends every connection (after the attach), and returns what the application saw. */
    List<String> end() throws Exception {
        List<String> saw = new ArrayList<>();
        if (blockedRead.isDone()) {
            saw.add("socket server read ended before the attach: " + blockedRead.get());
        }
        // the SSLSocket client dies: FIN below TLS, the server's reader (in read since before the attach) sees it
        plainClient.close();
        saw.add("socket server " + blockedRead.get(10, TimeUnit.SECONDS));
        // the epoll server is killed: its channel closes below TLS
        epollServerBelow.close().sync();
        // the io_uring client closes with close_notify
        if (uringClient != null) {
            uringClient.close().sync();
        }
        async.close();
        Thread.sleep(500);
        return saw;
    }

    /** Why the io_uring pair was not opened ("" when it was). */
    String skipped() {
        return skipped;
    }

    /** Closes what is left, the last opened first. */
    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception ignored) {
                // already closed with its connections
            }
        }
    }
}
