package dev.tlsautopsy;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.util.Properties;
import java.util.jar.JarFile;

/**
 * Entry point for {@code -javaagent} and attach. It checks the options, puts the agent's jar on the boot
 * class path and hands over to {@link Activation} there, naming no other agent class on the way: every
 * class of the agent is then loaded by the boot loader, in native code, where the application class
 * loader would have run Java code (interpreted during a JVM's start) and verified each class. That took
 * 37-46 ms from a TLS client's start to its first handshake (JDK 25 and 17; docs/performance.md), and
 * woven code in any class loader sees the same classes.
 */
public final class Agent {

    /** Set in the host JVM once the agent is installed: its start-up line. */
    public static final String ACTIVE_PROPERTY = "tlsautopsy.agent";

    private Agent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    private static void start(String args, Instrumentation inst, boolean atStartup) {
        try {
            try {
                // before the boot class path changes: options the agent refuses leave the JVM as it was
                Options.parse(args, System.getProperties());
            } catch (Options.Invalid e) {
                System.err.println("tls-autopsy: " + e.getMessage() + "; the agent is not installed");
                return;
            }
            // here, not later: HotSpot's warning that appending disables class data sharing for the
            // application's classes comes out before anything the application prints
            ClassLoader loader = appendToBootClassPath(inst);
            Class.forName("dev.tlsautopsy.Activation", true, loader)
                    .getMethod("start", String.class, Instrumentation.class, boolean.class, String.class)
                    .invoke(null, args, inst, atStartup, version());
        } catch (java.lang.reflect.InvocationTargetException e) {
            System.err.println("tls-autopsy: not installed: " + e.getCause());
        } catch (Throwable t) {
            System.err.println("tls-autopsy: not installed: " + t);
        }
    }

    /** The agent's version, from its jar's manifest (already read by the class loader: no I/O). */
    public static String version() {
        String v = Agent.class.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        try (InputStream in = Agent.class.getResourceAsStream("/tls-autopsy-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "0.0.0");
        } catch (IOException e) {
            return "0.0.0";
        }
    }

    /**
     * Appends the agent's jar to the boot class path; returns the loader of the agent's classes from now
     * on (null: the boot loader). From a classes directory (tests), only the bootstrap classes (a jar made
     * at build time) go there, through a file of this JVM's own, and the rest stays with this class's loader.
     */
    private static ClassLoader appendToBootClassPath(Instrumentation inst) throws IOException {
        File self = null;
        try {
            self = new File(Agent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception | Error unknown) {
            // not a file: the bootstrap classes alone, below
        }
        if (self != null && self.isFile()) {
            inst.appendToBootstrapClassLoaderSearch(new JarFile(self, false));
            return null;
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(bootstrapJar()));
        return Agent.class.getClassLoader();
    }

    /**
     * The bootstrap classes' jar as a new file of this JVM's own: created exclusively (never an existing
     * file or link), named without a random number (seeding one costs start-up time).
     */
    private static File bootstrapJar() throws IOException {
        byte[] bytes;
        try (InputStream in = Agent.class.getResourceAsStream("/tls-autopsy-bootstrap.jar")) {
            if (in == null) {
                throw new IOException("missing tls-autopsy-bootstrap.jar beside the agent's classes");
            }
            bytes = in.readAllBytes();
        }
        File dir = new File(System.getProperty("java.io.tmpdir"));
        File jar = null;
        for (int attempt = 0; jar == null; attempt++) {
            File candidate = new File(dir, "tls-autopsy-bootstrap-" + Long.toHexString(System.nanoTime()) + ".jar");
            if (candidate.createNewFile()) {
                jar = candidate;
            } else if (attempt > 100) {
                throw new IOException("cannot create a file in " + dir);
            }
        }
        try (OutputStream out = new FileOutputStream(jar)) {
            out.write(bytes);
        }
        jar.deleteOnExit();
        return jar;
    }
}
