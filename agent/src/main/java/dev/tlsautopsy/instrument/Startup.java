package dev.tlsautopsy.instrument;

import dev.tlsautopsy.Options;
import dev.tlsautopsy.StartupTiming;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What premain does once the bootstrap classes are on the boot class path, and no more: it registers a
 * {@link Gate} and starts the agent's start thread, which declares the hooks, opens the gate to them and
 * starts the rest ({@link Installer#startInBackground}). That work costs the application's start-up time
 * only if the application loads a class the hooks may weave before it is done. This class refers to
 * nothing it does not need, so that loading it in premain loads little else.
 */
public final class Startup implements Runnable {

    private final Options options;
    private final Instrumentation inst;
    private final String agentVersion;
    private final Path summary;
    private final long startedAt = System.nanoTime();
    private Gate gate;

    private Startup(Options options, Instrumentation inst, String agentVersion, Path summary) {
        this.options = options;
        this.inst = inst;
        this.agentVersion = agentVersion;
        this.summary = summary;
    }

    /** Registers the gate, starts the start thread; returns the line the agent prints. */
    public static String begin(Options options, Instrumentation inst, String agentVersion) {
        Path summary = options.summaryPath();
        Startup s = new Startup(options, inst, agentVersion, summary);
        Thread t = new Thread(s, "tls-autopsy-start");
        t.setDaemon(true);
        s.gate = new Gate(t);
        inst.addTransformer(s.gate, true);
        t.start();
        StartupTiming.mark("gate");
        return line(options, agentVersion, summary);
    }

    @Override
    public void run() {
        try {
            Installer.startInBackground(options, inst, agentVersion, summary, gate, startedAt);
        } catch (Throwable t) {
            gate.open(null);
            System.err.println("tls-autopsy: not installed: " + t);
        }
    }

    /** The line the agent prints when it starts. */
    static String line(Options options, String agentVersion, Path summary) {
        List<String> groups = new ArrayList<>();
        for (String g : Options.HOOK_GROUPS) {
            if (options.instrument.contains(g)) {
                groups.add(g);
            }
        }
        return "tls-autopsy " + agentVersion + ": instrumenting " + (groups.isEmpty() ? "nothing" : String.join(",", groups))
                + " on Java " + System.getProperty("java.runtime.version") + "; summary: " + (summary == null ? "off" : summary.toString())
                + (options.recording == null ? "" : "; recording: " + options.recording);
    }
}
