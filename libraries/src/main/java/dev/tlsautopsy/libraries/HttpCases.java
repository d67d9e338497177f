package dev.tlsautopsy.libraries;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509TrustManager;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;

/**
 * HTTP clients and servers as applications use them: Apache HttpClient 5 (classic over SSLSocket, async
 * over SSLEngine), OkHttp 5 (SSLSocket), the JDK's java.net.http (SSLEngine), against Jetty 12 and Tomcat 11
 * (both SSLEngine), and against a JDK peer that ends TCP below TLS.
 */
final class HttpCases {

    /** The server's keep-alive (idle) timeout in the stale-reuse cases, and how long the client waits before reusing. */
    static final long KEEP_ALIVE_MILLIS = 300;
    static final long REUSE_AFTER_MILLIS = 1500;
    /** Requests in a stale-reuse case: each after the first finds its pooled connection closed by the server. */
    static final int REQUESTS = 3;

    private HttpCases() {
    }

    static List<Case> all() {
        return List.of(
                // reactor-netty brings Netty's QUIC codec: its SSLEngine subclass loads without a word from the agent
                new Case("quic-engine-loaded", "reactor-netty 1.3 (Netty QUIC codec)",
                        "loads io.netty.handler.codec.quic.QuicheQuicSslEngine, an SSLEngine that is not TLS over TCP", 0,
                        r -> r.saw("loaded " + Class.forName("io.netty.handler.codec.quic.QuicheQuicSslEngine", false,
                                HttpCases.class.getClassLoader()).getName())),
                new Case("tomcat-stale-reuse", "Tomcat 11",
                        "Tomcat's keepAliveTimeout is " + KEEP_ALIVE_MILLIS + " ms; Apache HttpClient 5 reuses its pooled connection after "
                                + REUSE_AFTER_MILLIS + " ms, " + REQUESTS + " times", 2 * REQUESTS,
                        r -> {
                            try (Servers.Running tomcat = Servers.tomcat(r.tls, KEEP_ALIVE_MILLIS);
                                 CloseableHttpClient c = classic(r)) {
                                String url = url(r.port(tomcat.port()));
                                for (int i = 0; i < REQUESTS; i++) {
                                    if (i > 0) {
                                        Thread.sleep(REUSE_AFTER_MILLIS);
                                    }
                                    r.saw(get(c, url));
                                }
                            }
                        }));
    }

    static String url(int port) {
        return "https://localhost:" + port + "/";
    }

    static CloseableHttpClient classic(Case.Run r) {
        return HttpClients.custom().setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(r.tls.client)).build()).build();
    }

    static String get(CloseableHttpClient c, String url) throws Exception {
        return c.execute(new HttpGet(url), resp -> resp.getCode() + " " + EntityUtils.toString(resp.getEntity()));
    }

    static CloseableHttpAsyncClient async(Case.Run r) {
        return async(r.tls.client);
    }

    /** Apache HttpClient 5's async client over this context's engines (another provider's, possibly). */
    static CloseableHttpAsyncClient async(javax.net.ssl.SSLContext tls) {
        CloseableHttpAsyncClient c = HttpAsyncClients.custom().setConnectionManager(PoolingAsyncClientConnectionManagerBuilder
                .create().setTlsStrategy(new DefaultClientTlsStrategy(tls)).build()).build();
        c.start();
        return c;
    }

    static String get(CloseableHttpAsyncClient c, String url) throws Exception {
        SimpleHttpResponse resp = c.execute(SimpleRequestBuilder.get(url).build(), null).get(10, TimeUnit.SECONDS);
        return resp.getCode() + " " + resp.getBodyText();
    }

    static okhttp3.OkHttpClient okhttp(Case.Run r) {
        X509TrustManager trust = (X509TrustManager) r.tls.clientTrust.getTrustManagers()[0];
        return new okhttp3.OkHttpClient.Builder().sslSocketFactory(r.tls.client.getSocketFactory(), trust).build();
    }

    static String get(okhttp3.OkHttpClient c, String url) throws Exception {
        try (okhttp3.Response resp = c.newCall(new okhttp3.Request.Builder().url(url).build()).execute()) {
            return resp.code() + " " + resp.body().string();
        }
    }

    static void close(okhttp3.OkHttpClient c) {
        c.connectionPool().evictAll();
        c.dispatcher().executorService().shutdown();
    }

    static java.net.http.HttpClient jdk(Case.Run r) {
        return java.net.http.HttpClient.newBuilder().sslContext(r.tls.client).version(java.net.http.HttpClient.Version.HTTP_1_1)
                .build();
    }

    static String get(java.net.http.HttpClient c, String url) throws Exception {
        HttpResponse<String> resp = c.send(java.net.http.HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        return resp.statusCode() + " " + resp.body();
    }
}
