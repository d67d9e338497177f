package dev.tlsautopsy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Entry point for {@code -javaagent} and attach. It must not touch the bootstrap classes before
 * they are on the boot class path, so it only parses options, appends them, and hands over.
 */
public final class Agent {

    private static final String[] BOOTSTRAP_CLASSES = {"dev/tlsautopsy/bootstrap/Sink", "dev/tlsautopsy/bootstrap/Hooks"};
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
        if (Boolean.getBoolean("tlsautopsy.debug.timing")) {
            System.err.println("tls-autopsy timing: agent entered at " + (System.currentTimeMillis()
                    - ProcessHandle.current().info().startInstant().get().toEpochMilli()) + " ms since JVM start");
        }
        try {
            Options options;
            try {
                options = Options.parse(args, System.getProperties());
            } catch (Options.Invalid e) {
                System.err.println("tls-autopsy: " + e.getMessage() + "; the agent is not installed");
                return;
            }
            if (active != null || System.getProperty(ACTIVE_PROPERTY) != null) {
                System.err.println("tls-autopsy: already active (" + System.getProperty(ACTIVE_PROPERTY)
                        + "); nothing changed");
                return;
            }
            appendBootstrap(inst);
            String line = dev.tlsautopsy.instrument.Installer.install(options, inst, version(), atStartup);
            active = line;
            // lets `attach` report where the summary goes, and refuse a second copy
            System.setProperty(ACTIVE_PROPERTY, line);
            System.err.println(line);
            if (Boolean.getBoolean("tlsautopsy.debug.timing")) {
                System.err.println("tls-autopsy timing: agent returned at " + (System.currentTimeMillis()
                        - ProcessHandle.current().info().startInstant().get().toEpochMilli()) + " ms since JVM start");
            }
        } catch (Throwable t) {
            System.err.println("tls-autopsy: not installed: " + t);
        }
    }

    public static String version() {
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

    /** Copies the bootstrap classes into a temporary jar and appends it to the boot class path. */
    private static void appendBootstrap(Instrumentation inst) throws IOException {
        Path jar = Files.createTempFile("tls-autopsy-bootstrap-", ".jar");
        jar.toFile().deleteOnExit();
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            for (String name : BOOTSTRAP_CLASSES) {
                try (InputStream in = Agent.class.getResourceAsStream("/" + name + ".class")) {
                    if (in == null) {
                        throw new IOException("missing " + name + ".class in the agent jar");
                    }
                    j.putNextEntry(new JarEntry(name + ".class"));
                    in.transferTo(j);
                    j.closeEntry();
                }
            }
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar.toFile()));
    }
}
