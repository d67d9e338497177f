package dev.tlsautopsy.demo.tls;

import java.io.InputStream;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The demo's TLS contexts: a server with a self-signed localhost certificate, clients that trust it or not. */
public final class TlsContexts {

    public static final char[] PASSWORD = "changeit".toCharArray();

    public final KeyManagerFactory serverKeys;
    public final TrustManagerFactory clientTrust;
    public final TrustManagerFactory otherTrust;
    public final SSLContext server;
    public final SSLContext client;
    /** A client that trusts only some other certificate, not the server's. */
    public final SSLContext untrustingClient;

    public TlsContexts() throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load("tls-autopsy-server.p12"), PASSWORD);
        serverKeys = kmf;
        server = SSLContext.getInstance("TLS");
        server.init(kmf.getKeyManagers(), null, null);

        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load("tls-autopsy-trust.p12"));
        clientTrust = tmf;
        client = SSLContext.getInstance("TLS");
        client.init(null, tmf.getTrustManagers(), null);

        TrustManagerFactory none = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        none.init(load("tls-autopsy-other-trust.p12"));
        otherTrust = none;
        untrustingClient = SSLContext.getInstance("TLS");
        untrustingClient.init(null, none.getTrustManagers(), null);
    }

    private volatile java.util.Map<SSLContext, SSLContext> bouncyCastle;

    /**
     * The same keys and trust as {@code jdk}, in an SSLContext of BouncyCastle's JSSE provider (created
     * on first use, in a class of its own, so that BouncyCastle is only loaded when a scenario runs on it).
     */
    public SSLContext bouncyCastle(SSLContext jdk) {
        if (bouncyCastle == null) {
            synchronized (this) {
                if (bouncyCastle == null) {
                    java.util.Map<SSLContext, SSLContext> m = new java.util.IdentityHashMap<>();
                    m.put(server, BouncyCastleContexts.create("tls-autopsy-server.p12", null));
                    m.put(client, BouncyCastleContexts.create(null, "tls-autopsy-trust.p12"));
                    m.put(untrustingClient, BouncyCastleContexts.create(null, "tls-autopsy-other-trust.p12"));
                    bouncyCastle = m;
                }
            }
        }
        return bouncyCastle.get(jdk);
    }

    public static KeyStore load(String resource) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = TlsContexts.class.getResourceAsStream("/" + resource)) {
            ks.load(in, PASSWORD);
        }
        return ks;
    }
}
