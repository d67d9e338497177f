package dev.tlsautopsy;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.util.Properties;
import java.util.jar.JarFile;

/**
 * Entry point for {@code -javaagent} and attach. It checks the options, puts the agent's jar on the boot
 * class path and hands over to {@link Activation} there, naming no other agent class before that: every
 * other class of the agent is then loaded by the boot loader, in native code, where the application class
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
            appendToBootClassPath(inst);
            // resolved only now, after the append: the application class loader asks its parents first,
            // and the boot loader finds the class in the agent's jar. A direct call, not reflection: on
            // JDK 18 and later a first Method.invoke spins method handle classes, 19 ms here on JDK 25
            Activation.start(args, inst, atStartup, version());
        } catch (Throwable t) {
            // Activation reports its own failures: what lands here is the hand-over's
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

    /** Appends the agent's own jar to the boot class path: from then on its classes are the boot loader's. */
    private static void appendToBootClassPath(Instrumentation inst) throws Exception {
        File self = new File(Agent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!self.isFile()) {
            throw new IOException("the agent runs from its jar, not from " + self);
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(self, false));
    }
}
