package dev.tlsautopsy.demo.bench;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ssl.SSLSocket;

/**
 * Prints the milliseconds from JVM start to the first completed TLS 1.3 handshake over loopback:
 * run it with and without the agent to see what the agent adds to start-up.
 */
public final class FirstHandshake {

    private FirstHandshake() {
    }

    public static void main(String[] args) throws Exception {
        long mainAt = System.currentTimeMillis();
        if (args.length > 0) {
            // an application whose TLS starts this many milliseconds after the JVM (its own start-up first)
            long until = ManagementFactory.getRuntimeMXBean().getStartTime() + Long.parseLong(args[0]);
            Thread.sleep(Math.max(0, until - System.currentTimeMillis()));
        }
        TlsContexts tls = new TlsContexts();
        long contextsAt = System.currentTimeMillis();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket plain = listener.accept();
                     SSLSocket s = (SSLSocket) tls.server.getSocketFactory().createSocket(plain, null, true)) {
                    s.setUseClientMode(false);
                    s.startHandshake();
                    s.getInputStream().read();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            server.start();
            try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                 SSLSocket s = (SSLSocket) tls.client.getSocketFactory().createSocket(plain, "localhost",
                         listener.getLocalPort(), true)) {
                s.setEnabledProtocols(new String[] {"TLSv1.3"});
                s.startHandshake();
                long done = System.currentTimeMillis();
                long start = ManagementFactory.getRuntimeMXBean().getStartTime();
                System.out.println("first handshake completed " + (done - start) + " ms after JVM start");
                System.out.println("cpu " + ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis()).orElse(-1L)
                        + " ms");
                if (Boolean.getBoolean("firstHandshake.phases")) {
                    System.out.println("phases: main " + (mainAt - start) + " contexts " + (contextsAt - mainAt)
                            + " handshake " + (done - contextsAt));
                }
                s.getOutputStream().write(1);
            }
            server.join();
        }
    }
}
