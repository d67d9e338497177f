package dev.tlsautopsy.demo.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** {@code openssl s_server} and {@code s_client} as real peers, started and stopped by the scenario. */
public final class OpenSsl {

    private static Boolean available;
    private static Path material;

    private OpenSsl() {
    }

    public static synchronized boolean available() {
        if (available == null) {
            try {
                Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                available = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (Exception e) {
                available = false;
            }
        }
        return available;
    }

    private static synchronized Path material() throws IOException {
        if (material == null) {
            Path dir = Files.createTempDirectory("tls-autopsy-openssl");
            dir.toFile().deleteOnExit();
            for (String name : new String[] {"tls-autopsy-server.crt.pem", "tls-autopsy-server.key.pem"}) {
                try (InputStream in = OpenSsl.class.getResourceAsStream("/" + name)) {
                    Path f = dir.resolve(name);
                    Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
                    f.toFile().deleteOnExit();
                }
            }
            material = dir;
        }
        return material;
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String flag(String protocol) {
        return "TLSv1.2".equals(protocol) ? "-tls1_2" : "-tls1_3";
    }

    /** {@code s_server -rev -state}: answers each line reversed and logs its TLS state changes and alerts. */
    public static Peer server(int port, String protocol) throws IOException, InterruptedException {
        Path m = material();
        Peer p = new Peer(new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port,
                "-cert", m.resolve("tls-autopsy-server.crt.pem").toString(),
                "-key", m.resolve("tls-autopsy-server.key.pem").toString(),
                "-rev", "-state", "-naccept", "1", flag(protocol)).redirectErrorStream(true).start());
        if (!p.await(l -> l.equals("ACCEPT"), 10)) {
            p.close();
            throw new IOException("openssl s_server did not start: " + p);
        }
        return p;
    }

    /** {@code s_client -quiet -no_ign_eof}: sends its stdin, prints what it receives, closes TLS on EOF. */
    public static Peer client(int port, String protocol) throws IOException {
        return new Peer(new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-quiet",
                "-no_ign_eof", flag(protocol)).redirectErrorStream(true).start());
    }

    /** A running openssl process and the lines it printed. */
    public static final class Peer implements AutoCloseable {
        public final Process process;
        private final ProcessLines lines;

        public Peer(Process process) {
            this.process = process;
            this.lines = ProcessLines.of(process);
        }

        public void send(String text) throws IOException {
            OutputStream in = process.getOutputStream();
            in.write(text.getBytes(StandardCharsets.US_ASCII));
            in.flush();
        }

        public void closeInput() throws IOException {
            process.getOutputStream().close();
        }

        /** Kills the process (SIGKILL): the kernel closes its socket, no TLS shutdown. */
        public void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        public boolean exited(long seconds) throws InterruptedException {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        }

        public boolean await(Predicate<String> match, long seconds) throws InterruptedException {
            return lines.await(match, seconds);
        }

        @Override
        public String toString() {
            return lines.toString();
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                kill();
            }
        }
    }
}
