package dev.tlsautopsy.libraries;

import java.util.ArrayList;
import java.util.List;

/**
 * Jetty 12 and Tomcat 11 (each on the JDK's SSLEngine over NIO) and reactor-netty's HttpServer (Netty on
 * epoll) against a JDK client that ends its
 * connections every way a client can: close_notify, waiting for the server's own close, killed (FIN),
 * reset, half a record then FIN, a record that does not decrypt, and a certificate it does not trust.
 */
final class ServerMatrix {

    private ServerMatrix() {
    }

    interface Start {
        Servers.Running start(Case.Run r, long idleMillis) throws Exception;
    }

    static List<Case> all() {
        List<Case> out = new ArrayList<>();
        add(out, "jetty", "Jetty 12", Servers::jettyFor);
        add(out, "tomcat", "Tomcat 11", Servers::tomcatFor);
        add(out, "reactor-httpserver", "reactor-netty 1.3 HttpServer", Servers::reactorNettyFor);
        return out;
    }

    private static void add(List<Case> out, String n, String lib, Start start) {
        out.add(new Case(n + "-clean", lib, "the client closes with close_notify after its answer", 2,
                r -> client(r, start, 30_000, Raw.End.CLOSE_NOTIFY, true)));
        out.add(new Case(n + "-server-close", lib, "the server ends the idle connection (close_notify); the client reads it", 2,
                r -> client(r, start, HttpCases.KEEP_ALIVE_MILLIS, Raw.End.AWAIT_SERVER, true)));
        out.add(new Case(n + "-truncated", lib, "the client is killed after its answer: FIN, no close_notify", 2,
                r -> client(r, start, 30_000, Raw.End.FIN, true)));
        out.add(new Case(n + "-reset", lib, "the client resets TCP after its answer", 2,
                r -> client(r, start, 30_000, Raw.End.RST, true)));
        out.add(new Case(n + "-short-read", lib, "the client sends half a record, then FIN", 2,
                r -> client(r, start, 30_000, Raw.End.PARTIAL_RECORD, true)));
        out.add(new Case(n + "-bad-record-mac", lib, "the client sends a record that does not decrypt", 2,
                r -> client(r, start, 30_000, Raw.End.GARBAGE_RECORD, true)));
        out.add(new Case(n + "-handshake-failure", lib, "the client does not trust the server's certificate", 2,
                r -> client(r, start, 30_000, Raw.End.CLOSE_NOTIFY, false)));
    }

    private static void client(Case.Run r, Start start, long idleMillis, Raw.End end, boolean trusting) throws Exception {
        try (Servers.Running server = start.start(r, idleMillis)) {
            try {
                r.saw(Raw.client(trusting ? r.tls.client : r.tls.untrustingClient, r.port(server.port()), end));
            } catch (Exception e) {
                r.saw(e);
            }
            Thread.sleep(300);
        }
    }
}
