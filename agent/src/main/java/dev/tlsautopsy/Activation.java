package dev.tlsautopsy;

import java.lang.instrument.Instrumentation;

/**
 * What {@code -javaagent} and attach do once {@link Agent} has put the agent's classes on the boot class
 * path: parse the options, refuse a second copy, and start (at start-up on the agent's own thread).
 */
public final class Activation {

    private static volatile String active;

    private Activation() {
    }

    /** Called by {@link Agent} through the boot class path (reflection: no other agent class is named there). */
    public static synchronized void start(String args, Instrumentation inst, boolean atStartup, String version) {
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
            if (active != null || System.getProperty(Agent.ACTIVE_PROPERTY) != null) {
                System.err.println("tls-autopsy: already active (" + System.getProperty(Agent.ACTIVE_PROPERTY)
                        + "); nothing changed");
                return;
            }
            String line = atStartup
                    // the rest happens on the agent's start thread, while the application starts
                    ? dev.tlsautopsy.instrument.Startup.begin(options, inst, version)
                    : dev.tlsautopsy.instrument.Installer.install(options, inst, version);
            active = line;
            // lets `attach` report where the summary goes, and refuse a second copy
            System.setProperty(Agent.ACTIVE_PROPERTY, line);
            System.err.println(line);
            StartupTiming.mark(atStartup ? "premain done" : "agentmain done");
        } catch (Throwable t) {
            System.err.println("tls-autopsy: not installed: " + t);
        }
    }
}
