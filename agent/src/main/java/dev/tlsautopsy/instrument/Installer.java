package dev.tlsautopsy.instrument;

import dev.tlsautopsy.Options;
import dev.tlsautopsy.bootstrap.Hooks;
import dev.tlsautopsy.output.Outputs;
import dev.tlsautopsy.stack.engine.EngineStack;
import dev.tlsautopsy.stack.jsse.JsseStack;
import dev.tlsautopsy.stack.netty.NettyStack;
import dev.tlsautopsy.track.Tracker;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Wires the tracker, the outputs and the stacks together and installs the hooks the options ask for. */
public final class Installer {

    /** Every TLS stack, in one place: a new stack is one more entry. Its position numbers its hooks. */
    static Stack[] stacks(Tracker tracker) {
        return new Stack[] {new JsseStack(tracker), new EngineStack(tracker), new NettyStack(tracker)};
    }

    private Installer() {
    }

    /**
     * Installs everything; returns the line the agent prints at start. Weaving is plain ASM and needs no
     * set-up, so the hooks are live when this returns: a class loaded from now on is woven as it loads.
     * On attach the classes already loaded are retransformed. The MBean, the periodic summary and the
     * JFR statistics event start on a background thread, off the application's start-up path.
     */
    public static String install(Options options, Instrumentation inst, String agentVersion, boolean atStartup) {
        Outputs outputs = new Outputs(options, agentVersion);
        Tracker tracker = new Tracker(outputs);
        Stack[] all = stacks(tracker);
        Stack[] enabled = new Stack[all.length];
        HookSet[] sets = new HookSet[all.length];
        List<HookSet> active = new ArrayList<>();
        List<String> groups = new ArrayList<>();
        for (int i = 0; i < all.length; i++) {
            if (options.instrument.contains(all[i].group())) {
                enabled[i] = all[i];
                sets[i] = new HookSet(i, all[i].group());
                all[i].declare(sets[i]);
                active.add(sets[i]);
                if (!groups.contains(all[i].group())) {
                    groups.add(all[i].group());
                }
            }
        }
        Dispatcher dispatcher = new Dispatcher(enabled, sets);
        String failing = System.getProperty(FaultySink.PROPERTY);
        Hooks.install(failing == null ? dispatcher : new FaultySink(dispatcher, failing));
        // a recording asked for starts before any connection, so that it misses none
        outputs.start(tracker::open);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            tracker.flush();
            outputs.shutdown();
            if (tracker.untracked() > 0) {
                System.err.println("tls-autopsy: " + tracker.untracked() + " connection(s) were not recorded:"
                        + " the tracking limit (tlsautopsy.maxTracked=" + Tracker.MAX_TRACKED + ") was reached");
            }
        }, "tls-autopsy-exit"));

        HookTransformer transformer = new HookTransformer(active);
        inst.addTransformer(transformer, true);
        // on attach, the JDK's and the application's classes; at start-up, the few the JVM loaded before
        // the agent (JDK 25 loads sun.nio.ch.SocketChannelImpl that early)
        retransformLoaded(inst, transformer);
        Thread services = new Thread(() -> {
            if (atStartup) {
                // the JDK's TLS classes, woven here rather than when the application first needs them
                // (loaded, not initialised: no static initialiser runs early)
                for (Stack s : enabled) {
                    for (String name : s == null ? new String[0] : s.jdkClasses()) {
                        try {
                            Class.forName(name, false, null);
                        } catch (Throwable notInThisJdk) {
                            // its hooks simply never apply
                        }
                    }
                }
            }
            outputs.startServices();
        }, "tls-autopsy-services");
        services.setDaemon(true);
        services.start();

        Path summary = outputs.summaryPath();
        return "tls-autopsy " + agentVersion + ": instrumenting " + (groups.isEmpty() ? "nothing" : String.join(",", groups))
                + " on Java " + Runtime.version() + "; summary: " + (summary == null ? "off" : summary.toString())
                + (options.recording == null ? "" : "; recording: " + options.recording);
    }

    /** The classes loaded before the agent that it weaves, retransformed one by one. */
    private static void retransformLoaded(Instrumentation inst, HookTransformer transformer) {
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            try {
                if (inst.isModifiableClass(c) && transformer.wants(c)) {
                    loaded.add(c);
                }
            } catch (Throwable unresolvable) {
                // a class whose hierarchy cannot be resolved is not ours
            }
        }
        for (Class<?> c : loaded) {
            try {
                inst.retransformClasses(c);
            } catch (Throwable t) {
                System.err.println("tls-autopsy: cannot instrument " + c.getName() + ": " + t);
            }
        }
    }
}
