package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.tls.TlsContexts;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/** HTTPS servers on loopback that answer every request with "OK": Jetty 12, Tomcat 11 and reactor-netty, as users configure them. */
final class Servers {

    private Servers() {
    }

    /** A running server: its port, and how to stop it. */
    interface Running extends AutoCloseable {
        int port();

        @Override
        void close() throws Exception;

        /** A started server: where it listens, and how it stops. */
        static Running of(java.util.function.IntSupplier port, AutoCloseable stop) {
            return new Running() {
                @Override
                public int port() {
                    return port.getAsInt();
                }

                @Override
                public void close() throws Exception {
                    stop.close();
                }
            };
        }
    }

    static Running reactorNettyFor(Case.Run r, long idleTimeoutMillis) throws Exception {
        return reactorNetty(r.tls, idleTimeoutMillis);
    }

    /** reactor-netty's HttpServer on epoll with the JDK engine, closing connections idle for that long. */
    static Running reactorNetty(TlsContexts tls, long idleTimeoutMillis) throws Exception {
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                new io.netty.util.concurrent.DefaultThreadFactory("reactor-server-epoll", true),
                io.netty.channel.epoll.EpollIoHandler.newFactory());
        io.netty.handler.ssl.SslContext ssl = io.netty.handler.ssl.SslContextBuilder.forServer(tls.serverKeys)
                .sslProvider(io.netty.handler.ssl.SslProvider.JDK).build();
        reactor.netty.DisposableServer server = reactor.netty.http.server.HttpServer.create().host("127.0.0.1").port(0)
                .runOn(group).secure(spec -> spec.sslContext(ssl)).idleTimeout(java.time.Duration.ofMillis(idleTimeoutMillis))
                .handle((req, res) -> res.header("Content-Type", "text/plain").header("Content-Length", "2")
                        .sendString(reactor.core.publisher.Mono.just("OK")))
                .bindNow();
        return Running.of(server::port, () -> {
            server.disposeNow();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        });
    }

    static Running jettyFor(Case.Run r, long idleTimeoutMillis) throws Exception {
        return jetty(r.tls, idleTimeoutMillis);
    }

    static Running tomcatFor(Case.Run r, long keepAliveTimeoutMillis) throws Exception {
        return tomcat(r.tls, keepAliveTimeoutMillis);
    }

    /** Jetty 12 (SslConnection over its own SSLEngine) with the connector's idle timeout. */
    static Running jetty(TlsContexts tls, long idleTimeoutMillis) throws Exception {
        Server server = new Server();
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setSslContext(tls.server);
        HttpConfiguration http = new HttpConfiguration();
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        http.addCustomizer(secure);
        ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.setIdleTimeout(idleTimeoutMillis);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, "OK", callback);
                return true;
            }
        });
        server.start();
        return Running.of(connector::getLocalPort, server::stop);
    }

    /** Tomcat 11 (NIO connector, JSSE's SSLEngine) with its keep-alive timeout. */
    static Running tomcat(TlsContexts tls, long keepAliveTimeoutMillis) throws Exception {
        Tomcat tomcat = new Tomcat();
        java.nio.file.Path base = Files.createTempDirectory("tls-autopsy-tomcat");
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector("org.apache.coyote.http11.Http11NioProtocol");
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.setScheme("https");
        connector.setSecure(true);
        connector.setProperty("SSLEnabled", "true");
        connector.setProperty("keepAliveTimeout", String.valueOf(keepAliveTimeoutMillis));
        SSLHostConfig host = new SSLHostConfig();
        SSLHostConfigCertificate cert = new SSLHostConfigCertificate(host, SSLHostConfigCertificate.Type.UNDEFINED);
        cert.setCertificateKeystore(TlsContexts.load("tls-autopsy-server.p12"));
        cert.setCertificateKeystorePassword(new String(TlsContexts.PASSWORD));
        host.addCertificate(cert);
        connector.addSslHostConfig(host);
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        Context ctx = tomcat.addContext("", base.toString());
        Tomcat.addServlet(ctx, "ok", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.setContentType("text/plain");
                byte[] ok = "OK".getBytes(StandardCharsets.US_ASCII);
                resp.setContentLength(ok.length);
                resp.getOutputStream().write(ok);
            }
        });
        ctx.addServletMappingDecoded("/*", "ok");
        tomcat.start();
        return Running.of(connector::getLocalPort, () -> {
            tomcat.stop();
            tomcat.destroy();
        });
    }
}
