package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One way a library's TLS connections end, run for real over loopback with the library on one side (or
 * both): its body drives client and server, notes what the application saw, and names the server ports
 * whose connections are its own (client records to those ports, server records on them).
 */
public record Case(String name, String library, String title, int records, Body body) {

    public interface Body {
        void run(Run run) throws Exception;
    }

    /** A case this machine cannot run, and why. */
    public static final class Skipped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Skipped(String reason) {
            super(reason, null, false, false);
        }
    }

    /** What a case's body gets, and what it leaves behind. */
    public static final class Run {
        public final TlsContexts tls;
        private final Set<Integer> ports = new LinkedHashSet<>();
        private final List<String> saw = Collections.synchronizedList(new ArrayList<>());

        Run(TlsContexts tls) {
            this.tls = tls;
        }

        /** A server port this case's connections go to (directly or through a proxy). */
        public int port(int port) {
            ports.add(port);
            return port;
        }

        /** What the application was shown (a response, an exception), in order. */
        public void saw(String what) {
            saw.add(what);
        }

        /** Ends the case without running it, for a reason outside the agent (a kernel refusing io_uring). */
        public void skip(String reason) {
            throw new Skipped(reason);
        }

        public void saw(Throwable t) {
            saw.add(t.getClass().getName() + ": " + t.getMessage());
        }

        Set<Integer> ports() {
            return ports;
        }

        List<String> seen() {
            synchronized (saw) {
                return new ArrayList<>(saw);
            }
        }
    }
}
