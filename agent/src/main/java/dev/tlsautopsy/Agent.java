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
 * Entry point for {@code -javaagent} and attach. It must not touch the bootstrap classes before
 * they are on the boot class path, so it only parses options, appends them, and hands over.
 */
public final class Agent {

    /** Set in the host JVM once the agent is installed: its start-up line. */
    public static final String ACTIVE_PROPERTY = "tlsautopsy.agent";

    private static volatile String active;

    private Agent() {
    }

    public static void premain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    private static synchronized void start(String args, Instrumentation inst, boolean atStartup) {
        StartupTiming.mark("agent entered");
        try {
            Options options;
            try {
                options = Options.parse(args, System.getProperties());
                StartupTiming.mark("options");
            } catch (Options.Invalid e) {
                System.err.println("tls-autopsy: " + e.getMessage() + "; the agent is not installed");
                return;
            }
            if (active != null || System.getProperty(ACTIVE_PROPERTY) != null) {
                System.err.println("tls-autopsy: already active (" + System.getProperty(ACTIVE_PROPERTY)
                        + "); nothing changed");
                return;
            }
            // here, not later: HotSpot's warning that appending disables class data sharing for the
            // application's classes comes out before anything the application prints
            appendBootstrap(inst);
            StartupTiming.mark("boot class path");
            String line = atStartup
                    // the rest happens on the agent's start thread, while the application starts
                    ? dev.tlsautopsy.instrument.Startup.begin(options, inst, version())
                    : dev.tlsautopsy.instrument.Installer.install(options, inst, version());
            active = line;
            // lets `attach` report where the summary goes, and refuse a second copy
            System.setProperty(ACTIVE_PROPERTY, line);
            System.err.println(line);
            StartupTiming.mark(atStartup ? "premain done" : "agentmain done");
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
     * Appends the bootstrap classes (a jar inside this one, made at build time) to the boot class path,
     * through a new file of this JVM's own: created exclusively (never an existing file or link), named
     * without a random number (seeding one costs start-up time). Read straight from the agent jar: a
     * resource lookup would search the JDK's own image first.
     */
    private static void appendBootstrap(Instrumentation inst) throws IOException {
        byte[] bytes = bootstrapJar();
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
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
    }

    private static byte[] bootstrapJar() throws IOException {
        String entry = "tls-autopsy-bootstrap.jar";
        try {
            java.net.URL location = Agent.class.getProtectionDomain().getCodeSource().getLocation();
            File self = new File(location.toURI());
            if (self.isFile()) {
                try (JarFile agent = new JarFile(self, false);
                     InputStream in = agent.getInputStream(agent.getJarEntry(entry))) {
                    return in.readAllBytes();
                }
            }
        } catch (Exception notAJar) {
            // the classes directory (tests): the resource below
        }
        try (InputStream in = Agent.class.getResourceAsStream("/" + entry)) {
            if (in == null) {
                throw new IOException("missing " + entry + " in the agent jar");
            }
            return in.readAllBytes();
        }
    }
}
