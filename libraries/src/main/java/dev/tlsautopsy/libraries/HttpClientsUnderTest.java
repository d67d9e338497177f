package dev.tlsautopsy.libraries;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import reactor.netty.resources.ConnectionProvider;

/**
 * The HTTP clients as applications build them, each with its pool: a GET that returns "status body", and
 * a close of the client. {@code retries=false} turns a library's automatic retry off, so a fault reaches the
 * application once (the default is kept where the case is about what users meet).
 */
final class HttpClientsUnderTest {

    interface Client extends AutoCloseable {
        String get(String url) throws Exception;

        /** Whether reading is event-driven (it sees a peer's close_notify or FIN when it arrives). */
        boolean eventDriven();
    }

    /** A client of one library over one provider's TLS. */
    record Kind(String name, String library, boolean closes, Factory factory) {
    }

    interface Factory {
        Client create(SSLContext tls, TrustManagerFactory trust, boolean retries) throws Exception;
    }

    private HttpClientsUnderTest() {
    }

    static List<Kind> all() {
        return List.of(
                new Kind("httpclient5", "Apache HttpClient 5 classic", true, HttpClientsUnderTest::classic),
                new Kind("httpclient5-async", "Apache HttpClient 5 async", true, HttpClientsUnderTest::async),
                new Kind("okhttp", "OkHttp 5", true, HttpClientsUnderTest::okhttp),
                // java.net.http's HttpClient has no close() before JDK 21: its cases never close it
                new Kind("java-http-client", "java.net.http", false, HttpClientsUnderTest::jdk),
                new Kind("reactor-netty", "reactor-netty", true, HttpClientsUnderTest::reactor),
                new Kind("httpclient5-async-conscrypt", "Conscrypt", true, HttpClientsUnderTest::async),
                new Kind("httpclient5-async-bouncycastle", "BouncyCastle JSSE", true, HttpClientsUnderTest::async));
    }

    static Client classic(SSLContext tls, TrustManagerFactory trust, boolean retries) {
        HttpClientBuilder b = HttpClients.custom().setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(tls)).build());
        if (!retries) {
            b.disableAutomaticRetries();
        }
        CloseableHttpClient c = b.build();
        return new Client() {
            @Override
            public String get(String url) throws Exception {
                return c.execute(new HttpGet(url), resp -> resp.getCode() + " " + EntityUtils.toString(resp.getEntity()).length());
            }

            @Override
            public boolean eventDriven() {
                return false;
            }

            @Override
            public void close() throws Exception {
                c.close();
            }
        };
    }

    static Client async(SSLContext tls, TrustManagerFactory trust, boolean retries) {
        HttpAsyncClientBuilder b = HttpAsyncClients.custom().setConnectionManager(PoolingAsyncClientConnectionManagerBuilder
                .create().setTlsStrategy(new DefaultClientTlsStrategy(tls)).build());
        if (!retries) {
            b.disableAutomaticRetries();
        }
        CloseableHttpAsyncClient c = b.build();
        c.start();
        return new Client() {
            @Override
            public String get(String url) throws Exception {
                SimpleHttpResponse resp = c.execute(SimpleRequestBuilder.get(url).build(), null).get(10, TimeUnit.SECONDS);
                return resp.getCode() + " " + resp.getBodyText().length();
            }

            @Override
            public boolean eventDriven() {
                return true;
            }

            @Override
            public void close() {
                c.close(CloseMode.GRACEFUL);
            }
        };
    }

    static Client okhttp(SSLContext tls, TrustManagerFactory trust, boolean retries) {
        X509TrustManager tm = (X509TrustManager) trust.getTrustManagers()[0];
        okhttp3.OkHttpClient c = new okhttp3.OkHttpClient.Builder().sslSocketFactory(tls.getSocketFactory(), tm)
                .retryOnConnectionFailure(retries).build();
        return new Client() {
            @Override
            public String get(String url) throws Exception {
                try (okhttp3.Response resp = c.newCall(new okhttp3.Request.Builder().url(url).build()).execute()) {
                    return resp.code() + " " + resp.body().string().length();
                }
            }

            @Override
            public boolean eventDriven() {
                return false;
            }

            @Override
            public void close() {
                c.connectionPool().evictAll();
                c.dispatcher().executorService().shutdown();
            }
        };
    }

    static Client jdk(SSLContext tls, TrustManagerFactory trust, boolean retries) {
        java.net.http.HttpClient c = java.net.http.HttpClient.newBuilder().sslContext(tls)
                .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        return new Client() {
            @Override
            public String get(String url) throws Exception {
                HttpResponse<String> resp = c.send(java.net.http.HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                return resp.statusCode() + " " + resp.body().length();
            }

            @Override
            public boolean eventDriven() {
                return true;
            }

            @Override
            public void close() {
                // nothing to close on JDK 17; its idle connections stay until the server ends them
            }
        };
    }

    /** reactor-netty's HttpClient on epoll (it would pick io_uring when both are present, as here). */
    static Client reactor(SSLContext tls, TrustManagerFactory trust, boolean retries) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("reactor-epoll", true),
                EpollIoHandler.newFactory());
        ConnectionProvider pool = ConnectionProvider.create("tls-autopsy", 4);
        JdkSslContext netty = new JdkSslContext(tls, true, ClientAuth.NONE);
        reactor.netty.http.client.HttpClient c = reactor.netty.http.client.HttpClient.create(pool).runOn(group)
                .secure(spec -> spec.sslContext(netty)).disableRetry(!retries);
        return new Client() {
            @Override
            public String get(String url) {
                return c.get().uri(url).responseSingle((res, body) -> body.asString().defaultIfEmpty("")
                        .map(b -> res.status().code() + " " + b.length())).block(Duration.ofSeconds(10));
            }

            @Override
            public boolean eventDriven() {
                return true;
            }

            @Override
            public void close() throws Exception {
                pool.disposeLater().block(Duration.ofSeconds(10));
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
        };
    }
}
