package dev.tlsautopsy.demo.hardening;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.security.ProtectionDomain;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A web application's TLS as a servlet container runs it: the demo's classes loaded again by a loader of
 * their own ({@code webapp}), whose code runs on a thread with that loader as its context class loader.
 * One SSLSocket connection: the client writes small records until the agent's data clock ticks (it
 * starts only for a burst of reads and writes, made here on the web application's threads), then ping and
 * pong, closed cleanly by the client; then one line per agent thread:
 * {@code agent-thread <name> context-loader=<webapp|other> access-context=<webapp|other|none>} (the last
 * read on JDKs whose threads keep an inherited access control context, with {@code --add-opens
 * java.base/java.lang} and {@code java.base/java.security}). Whatever holds the {@code webapp} loader keeps
 * the application's classes after its undeploy.
 */
public final class WebAppLoaderMain {

    private WebAppLoaderMain() {
    }

    public static void main(String[] args) throws Exception {
        URL demo = WebAppLoaderMain.class.getProtectionDomain().getCodeSource().getLocation();
        URLClassLoader webapp = new URLClassLoader("webapp", new URL[] {demo}, ClassLoader.getPlatformClassLoader());
        Runnable app = (Runnable) Class.forName(App.class.getName(), true, webapp).getDeclaredConstructor().newInstance();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread worker = new Thread(() -> {
            try {
                app.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        }, "webapp-worker");
        worker.setContextClassLoader(webapp);
        worker.start();
        done.get(60, TimeUnit.SECONDS);
        System.out.println("application done");
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("tls-autopsy-")) {
                System.out.println("agent-thread " + t.getName() + " context-loader="
                        + (t.getContextClassLoader() == webapp ? "webapp" : "other") + " access-context="
                        + accessContext(t, webapp));
            }
        }
    }

    /** Whether the access control context {@code t} inherited names a protection domain of {@code loader}. */
    private static String accessContext(Thread t, ClassLoader loader) throws ReflectiveOperationException {
        Field inherited;
        try {
            inherited = Thread.class.getDeclaredField("inheritedAccessControlContext");
        } catch (NoSuchFieldException gone) {
            return "none";      // JDK 24 and later
        }
        inherited.setAccessible(true);
        Object acc = inherited.get(t);
        if (acc == null) {
            return "other";
        }
        Field context = acc.getClass().getDeclaredField("context");
        context.setAccessible(true);
        ProtectionDomain[] domains = (ProtectionDomain[]) context.get(acc);
        if (domains != null) {
            for (ProtectionDomain d : domains) {
                if (d != null && d.getClassLoader() == loader) {
                    return "webapp";
                }
            }
        }
        return "other";
    }

    /** The web application: loaded by {@code webapp}, so its frames carry that loader's protection domain. */
    public static final class App implements Runnable {

        @Override
        public void run() {
            try {
                TlsContexts tls = new TlsContexts();
                try (SSLServerSocket server = (SSLServerSocket) tls.server.getServerSocketFactory()
                        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    // the server's thread, made here, has the same context class loader
                    CompletableFuture<Void> served = new CompletableFuture<>();
                    Thread serving = new Thread(() -> {
                        try {
                            serve(server);
                            served.complete(null);
                        } catch (Throwable t) {
                            served.completeExceptionally(t);
                        }
                    }, "webapp-server");
                    serving.start();
                    try (SSLSocket c = (SSLSocket) tls.client.getSocketFactory()
                            .createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                        c.startHandshake();
                        byte[] chunk = new byte[16];
                        java.util.Arrays.fill(chunk, (byte) 'x');
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        for (int i = 1; System.nanoTime() < deadline; i++) {
                            c.getOutputStream().write(chunk);
                            if (i % 256 == 0 && agentThreadRuns("tls-autopsy-clock")) {
                                break;
                            }
                        }
                        c.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                        c.getOutputStream().flush();
                        readFully(c.getInputStream(), 4);
                    }
                    served.get(30, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static void serve(SSLServerSocket server) {
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.startHandshake();
                readUntilPing(s.getInputStream());
                OutputStream out = s.getOutputStream();
                out.write("pong".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                if (s.getInputStream().read() != -1) {      // the client's close_notify
                    throw new IllegalStateException("data after pong");
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private static boolean agentThreadRuns(String name) {
            return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name));
        }

        /** Reads the client's filler ('x') up to and including its "ping". */
        private static void readUntilPing(InputStream in) throws java.io.IOException {
            byte[] b = new byte[4096];
            String tail = "";
            while (!tail.endsWith("ping")) {
                int r = in.read(b);
                if (r < 0) {
                    throw new java.io.EOFException("before ping");
                }
                tail = tail + new String(b, 0, r, StandardCharsets.US_ASCII);
                tail = tail.substring(Math.max(0, tail.length() - 4));
            }
        }

        private static void readFully(InputStream in, int n) throws java.io.IOException {
            byte[] b = new byte[n];
            for (int got = 0; got < n; ) {
                int r = in.read(b, got, n - got);
                if (r < 0) {
                    throw new java.io.EOFException("after " + got + " bytes");
                }
                got += r;
            }
        }
    }
}
