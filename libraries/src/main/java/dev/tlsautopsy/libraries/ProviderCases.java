package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.proxy.FaultProxy;
import dev.tlsautopsy.demo.tls.BouncyCastleContexts;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * TLS providers with their own SSLSocket, not the JDK's: BouncyCastle's JSSE ({@code ProvSSLSocketDirect})
 * and Conscrypt ({@code ConscryptEngineSocket}, BoringSSL inside), each as the client of a JDK server
 * that answers and then closes with close_notify or below TLS; and the same providers' engines under
 * Apache HttpClient 5's async client.
 */
final class ProviderCases {

    private ProviderCases() {
    }

    /** How a provider socket's connection ends. */
    enum Mode {
        /** The client closes with close_notify after the answer. */
        CLEAN,
        /** The server answers, then ends TCP without close_notify (killed). */
        TRUNCATED,
        /** The server answers, then resets TCP. */
        RESET,
        /** A proxy cuts the answer's record in its middle. */
        SHORT_READ,
        /** A proxy flips a bit in the answer's record. */
        BAD_RECORD_MAC,
        /** The client does not trust the server's certificate. */
        HANDSHAKE_FAILURE
    }

    static List<Case> all() {
        List<Case> out = new java.util.ArrayList<>();
        for (String provider : new String[] {"bouncycastle", "conscrypt"}) {
            String lib = provider.equals("conscrypt") ? "Conscrypt" : "BouncyCastle JSSE";
            for (Mode m : Mode.values()) {
                out.add(new Case(provider + "-socket-" + m.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), lib,
                        "a " + lib + " client socket against a JDK server: " + m.name().toLowerCase(java.util.Locale.ROOT)
                                .replace('_', ' '), 2,
                        r -> socket(r, context(provider, r.tls, m != Mode.HANDSHAKE_FAILURE), m)));
            }
        }
        return out;
    }

    static SSLContext context(String provider, TlsContexts tls, boolean trusting) throws Exception {
        if (provider.equals("conscrypt")) {
            return conscrypt(trusting ? tls.clientTrust : tls.otherTrust);
        }
        return BouncyCastleContexts.create(null, trusting ? "tls-autopsy-trust.p12" : "tls-autopsy-other-trust.p12");
    }

    static SSLContext bouncyCastle() {
        return BouncyCastleContexts.create(null, "tls-autopsy-trust.p12");
    }

    private static volatile Provider conscryptProvider;

    static SSLContext conscrypt(TlsContexts tls) throws Exception {
        return conscrypt(tls.clientTrust);
    }

    /** A Conscrypt client context with this trust. */
    static SSLContext conscrypt(javax.net.ssl.TrustManagerFactory trust) throws Exception {
        if (conscryptProvider == null) {
            conscryptProvider = org.conscrypt.Conscrypt.newProvider();
        }
        SSLContext c = SSLContext.getInstance("TLS", conscryptProvider);
        c.init(null, trust.getTrustManagers(), null);
        return c;
    }

    /**
     * A JDK server that reads "ping" and answers "pong" (behind a proxy when the answer is to be hurt), then
     * waits for the client's close or ends TCP as {@code mode} says; the client (the provider's socket) reads
     * until the end.
     */
    private static void socket(Case.Run r, SSLContext client, Mode mode) throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int serverPort = r.port(listener.getLocalPort());
            FaultProxy proxy = mode == Mode.SHORT_READ || mode == Mode.BAD_RECORD_MAC ? new FaultProxy(serverPort) : null;
            int port = proxy != null ? r.port(proxy.port()) : serverPort;
            Future<?> server = pool.submit(() -> {
                Socket plain = listener.accept();
                SSLSocket s = (SSLSocket) r.tls.server.getSocketFactory().createSocket(plain, null, plain.getPort(), true);
                s.setUseClientMode(false);
                try {
                    InputStream in = s.getInputStream();
                    byte[] ping = in.readNBytes(4);
                    if (proxy != null) {
                        proxy.arm(mode == Mode.SHORT_READ ? FaultProxy.Fault.CUT_MID_BODY : FaultProxy.Fault.FLIP_BIT);
                    }
                    s.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    if (mode == Mode.TRUNCATED || mode == Mode.RESET) {
                        if (mode == Mode.RESET) {
                            plain.setSoLinger(true, 0);
                        }
                        plain.close();
                    } else {
                        // until the client's close_notify, the proxy's cut or the client's alert
                        while (in.read() >= 0) {
                            // nothing more is sent
                        }
                    }
                    return new String(ping, StandardCharsets.US_ASCII);
                } catch (IOException ended) {
                    return ended.toString();
                } finally {
                    try {
                        s.close();
                    } catch (IOException alreadyClosed) {
                        // the transport below is closed
                    }
                }
            });
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket("localhost", port)) {
                r.saw("client: " + c.getClass().getName());
                OutputStream out = c.getOutputStream();
                out.write("ping".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = c.getInputStream();
                r.saw("answer: " + new String(in.readNBytes(4), StandardCharsets.US_ASCII));
                if (mode != Mode.CLEAN) {
                    r.saw("then read: " + in.read());
                }
            } catch (IOException e) {
                r.saw(e);
            }
            server.get(10, TimeUnit.SECONDS);
            if (proxy != null) {
                proxy.close();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
