package dev.tlsautopsy.libraries;

import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Every HTTP client of {@link HttpClientsUnderTest} against the same peers: a clean close by either side,
 * a pooled connection the server closed and the client reused, the peer killed after its answer or in
 * the middle of it, a reset, a record cut in its middle, a flipped bit, and a handshake failure.
 */
final class ClientMatrix {

    private ClientMatrix() {
    }

    static List<Case> all() {
        List<Case> out = new ArrayList<>();
        for (HttpClientsUnderTest.Kind k : HttpClientsUnderTest.all()) {
            String n = k.name();
            if (k.closes()) {
                out.add(new Case(n + "-clean", k.library(), "GET from Jetty, then the client closes", 2,
                        r -> jetty(r, k, 30_000, 0)));
            }
            out.add(new Case(n + "-server-close", k.library(), "GET from Jetty; Jetty ends the idle connection after "
                    + HttpCases.KEEP_ALIVE_MILLIS + " ms (close_notify); the client closes a second later", 2,
                    r -> jetty(r, k, HttpCases.KEEP_ALIVE_MILLIS, HttpCases.KEEP_ALIVE_MILLIS + 1000)));
            out.add(new Case(n + "-stale-reuse", k.library(), "Jetty ends idle connections after " + HttpCases.KEEP_ALIVE_MILLIS
                    + " ms; the client sends " + HttpCases.REQUESTS + " requests " + HttpCases.REUSE_AFTER_MILLIS
                    + " ms apart (the library's own retry on)", 2 * HttpCases.REQUESTS, r -> staleReuse(r, k)));
            for (FaultServer.Plan p : new FaultServer.Plan[] {FaultServer.Plan.FIN_AFTER_ANSWER,
                FaultServer.Plan.FIN_MID_ANSWER, FaultServer.Plan.RST_MID_ANSWER, FaultServer.Plan.CUT_MID_RECORD,
                FaultServer.Plan.FLIP_BIT}) {
                out.add(new Case(n + "-" + name(p), k.library(), title(p), 2, r -> fault(r, k, p)));
            }
            out.add(new Case(n + "-handshake-failure", k.library(), "the client does not trust Jetty's certificate", 2,
                    r -> untrusted(r, k)));
        }
        return out;
    }

    static String name(FaultServer.Plan p) {
        switch (p) {
            case FIN_AFTER_ANSWER: return "truncated";
            case FIN_MID_ANSWER: return "truncated-mid-answer";
            case RST_MID_ANSWER: return "reset";
            case CUT_MID_RECORD: return "short-read";
            default: return "bad-record-mac";
        }
    }

    private static String title(FaultServer.Plan p) {
        switch (p) {
            case FIN_AFTER_ANSWER: return "the server (a JDK peer) answers, then ends TCP without close_notify while the connection idles";
            case FIN_MID_ANSWER: return "the server sends the headers, then ends TCP without close_notify (killed mid-answer)";
            case RST_MID_ANSWER: return "the server sends the headers, then resets the connection";
            case CUT_MID_RECORD: return "a proxy cuts the answer's record in its middle";
            default: return "a proxy flips a bit in the answer's record";
        }
    }

    private static SSLContext context(Case.Run r, HttpClientsUnderTest.Kind k, boolean trusting) throws Exception {
        switch (k.name()) {
            case "httpclient5-async-conscrypt":
                return trusting ? ProviderCases.conscrypt(r.tls) : ProviderCases.conscrypt(r.tls.otherTrust);
            case "httpclient5-async-bouncycastle":
                return dev.tlsautopsy.demo.tls.BouncyCastleContexts.create(null,
                        trusting ? "tls-autopsy-trust.p12" : "tls-autopsy-other-trust.p12");
            default:
                return trusting ? r.tls.client : r.tls.untrustingClient;
        }
    }

    private static HttpClientsUnderTest.Client client(Case.Run r, HttpClientsUnderTest.Kind k, boolean retries,
                                                     boolean trusting) throws Exception {
        TrustManagerFactory trust = trusting ? r.tls.clientTrust : r.tls.otherTrust;
        return k.factory().create(context(r, k, trusting), trust, retries);
    }

    /** A GET from Jetty with this idle timeout; waits {@code thenMillis} before the client closes. */
    private static void jetty(Case.Run r, HttpClientsUnderTest.Kind k, long idleMillis, long thenMillis) throws Exception {
        try (Servers.Running jetty = Servers.jetty(r.tls, idleMillis)) {
            HttpClientsUnderTest.Client c = client(r, k, true, true);
            r.saw(c.get(HttpCases.url(r.port(jetty.port()))));
            Thread.sleep(thenMillis);
            c.close();
        }
    }

    private static void staleReuse(Case.Run r, HttpClientsUnderTest.Kind k) throws Exception {
        try (Servers.Running jetty = Servers.jetty(r.tls, HttpCases.KEEP_ALIVE_MILLIS)) {
            HttpClientsUnderTest.Client c = client(r, k, true, true);
            String url = HttpCases.url(r.port(jetty.port()));
            for (int i = 0; i < HttpCases.REQUESTS; i++) {
                if (i > 0) {
                    Thread.sleep(HttpCases.REUSE_AFTER_MILLIS);
                }
                r.saw(c.get(url));
            }
            if (k.closes()) {
                c.close();
            } else {
                // the JDK's client cannot be closed (JDK 17): the server's idle timeout ends the last one
                Thread.sleep(HttpCases.KEEP_ALIVE_MILLIS + 700);
            }
        }
    }

    private static void fault(Case.Run r, HttpClientsUnderTest.Kind k, FaultServer.Plan p) throws Exception {
        try (FaultServer server = new FaultServer(r.tls, p)) {
            r.port(server.port());
            r.port(server.serverPort());
            HttpClientsUnderTest.Client c = client(r, k, false, true);
            try {
                r.saw(c.get(HttpCases.url(server.port())));
            } catch (Exception e) {
                r.saw(rootCause(e));
            }
            // the peer's end reaches an idle pooled connection in its own time
            Thread.sleep(p == FaultServer.Plan.FIN_AFTER_ANSWER ? 600 : 200);
            c.close();
        }
    }

    private static void untrusted(Case.Run r, HttpClientsUnderTest.Kind k) throws Exception {
        try (Servers.Running jetty = Servers.jetty(r.tls, 30_000)) {
            HttpClientsUnderTest.Client c = client(r, k, false, false);
            try {
                r.saw(c.get(HttpCases.url(r.port(jetty.port()))));
            } catch (Exception e) {
                r.saw(rootCause(e));
            }
            Thread.sleep(200);
            c.close();
        }
    }

    static Throwable rootCause(Throwable t) {
        Throwable top = t;
        while (t.getCause() != null && t.getCause() != t && !(t instanceof java.io.IOException)) {
            t = t.getCause();
        }
        return t instanceof java.io.IOException ? t : top;
    }
}
