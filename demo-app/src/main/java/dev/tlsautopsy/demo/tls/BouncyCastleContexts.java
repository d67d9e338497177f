package dev.tlsautopsy.demo.tls;

import java.security.Provider;
import java.security.SecureRandom;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** SSLContexts of BouncyCastle's JSSE provider, with its own PKIX key and trust managers. */
public final class BouncyCastleContexts {

    /** BouncyCastle logs every alert it raises (INFO) and the JDK security settings it cannot read (WARNING); the scenarios report what matters. Kept: JUL holds loggers weakly. */
    private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("org.bouncycastle.jsse");

    static {
        QUIET.setLevel(java.util.logging.Level.SEVERE);
    }

    private static final Provider PROVIDER = new org.bouncycastle.jsse.provider.BouncyCastleJsseProvider();

    private BouncyCastleContexts() {
    }

    /** A context with the key store {@code keys} and/or the trust store {@code trust} (resources, or null). */
    public static SSLContext create(String keys, String trust) {
        try {
            KeyManagerFactory kmf = null;
            if (keys != null) {
                kmf = KeyManagerFactory.getInstance("PKIX", PROVIDER);
                kmf.init(TlsContexts.load(keys), TlsContexts.PASSWORD);
            }
            TrustManagerFactory tmf = null;
            if (trust != null) {
                tmf = TrustManagerFactory.getInstance("PKIX", PROVIDER);
                tmf.init(TlsContexts.load(trust));
            }
            SSLContext c = SSLContext.getInstance("TLS", PROVIDER);
            // BouncyCastle's default SecureRandom lookup needs its own JCE provider; the JDK's will do
            c.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(),
                    new SecureRandom());
            return c;
        } catch (Exception e) {
            throw new IllegalStateException("BouncyCastle JSSE: " + e, e);
        }
    }
}
