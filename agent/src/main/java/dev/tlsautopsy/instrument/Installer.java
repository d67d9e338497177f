package dev.tlsautopsy.instrument;

import dev.tlsautopsy.Options;
import dev.tlsautopsy.StartupTiming;
import dev.tlsautopsy.bootstrap.Hooks;
import dev.tlsautopsy.output.Outputs;
import dev.tlsautopsy.stack.engine.EngineStack;
import dev.tlsautopsy.stack.jsse.JsseStack;
import dev.tlsautopsy.stack.netty.NettyStack;
import dev.tlsautopsy.stack.provider.ProviderSocketStack;
import dev.tlsautopsy.track.Tracker;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Wires the tracker, the outputs and the stacks together and installs the hooks the options ask for. */
public final class Installer {

    /** Every TLS stack, in one place: a new stack is one more entry. Its position numbers its hooks. */
    static Stack[] stacks() {
        return new Stack[] {new JsseStack(), new EngineStack(), new NettyStack(), new ProviderSocketStack()};
    }

    private Installer() {
    }

    /** The stacks the options enable, their hooks declared, and the transformer that weaves them. */
    private static final class Declared {
        final Stack[] enabled;
        final HookSet[] sets;
        final PlatformMBeanServerHook jmx;
        final HookTransformer transformer;

        Declared(Stack[] enabled, HookSet[] sets, PlatformMBeanServerHook jmx, HookTransformer transformer) {
            this.enabled = enabled;
            this.sets = sets;
            this.jmx = jmx;
            this.transformer = transformer;
        }
    }

    /** Declares the hooks of every enabled stack (and the platform MBean server's). */
    private static Declared declare(Options options) {
        Stack[] stacks = stacks();
        PlatformMBeanServerHook jmx = new PlatformMBeanServerHook();
        Stack[] all = java.util.Arrays.copyOf(stacks, stacks.length + 1);
        all[stacks.length] = jmx;
        Stack[] enabled = new Stack[all.length];
        HookSet[] sets = new HookSet[all.length];
        List<HookSet> active = new ArrayList<>();
        for (int i = 0; i < all.length; i++) {
            if (i == stacks.length || options.instrument.contains(all[i].group())) {
                enabled[i] = all[i];
                sets[i] = new HookSet(i, all[i].group());
                all[i].declare(sets[i]);
                for (HookSet.TypeHooks t : sets[i].types) {
                    for (HookSet.MethodHook m : t.methods) {
                        if (m.noStartWait) {
                            Hooks.withoutStartWait(m.hook);
                        }
                    }
                }
                active.add(sets[i]);
            }
        }
        StartupTiming.mark("declared");
        return new Declared(enabled, sets, jmx, new HookTransformer(active));
    }

    /**
     * On attach: installs everything before it returns (the classes already loaded are retransformed), and
     * returns the line the agent prints.
     */
    public static String install(Options options, Instrumentation inst, String agentVersion) {
        Declared d = declare(options);
        Path summary = options.summaryPath();
        inst.addTransformer(d.transformer, true);
        new Start(inst, options, agentVersion, summary, d, false, System.nanoTime()).run();
        return Startup.line(options, agentVersion, summary);
    }

    /**
     * At start-up, on the agent's start thread: the hooks are declared and the gate premain registered is
     * opened to them; then the tracker, the outputs and the services start, in parallel with the
     * application (a hook that runs before they are connected waits for them, bounded).
     */
    static void startInBackground(Options options, Instrumentation inst, String agentVersion, Path summary, Gate gate,
                                  long startedAt) {
        Declared d;
        try {
            d = declare(options);
        } catch (Throwable t) {
            gate.open(null);
            Hooks.install(null);
            System.err.println("tls-autopsy: not installed: " + t);
            return;
        }
        Hooks.starting(Thread.currentThread());
        gate.open(d.transformer);
        StartupTiming.mark("gate open");
        new Start(inst, options, agentVersion, summary, d, true, startedAt).run();
    }

    /**
     * The rest of the installation: the outputs (a recording asked for starts before the hooks are
     * connected, so that it misses no connection), the tracker, the stacks' reading; then the hooks are
     * connected; then the classes loaded before the agent are woven, and the outputs' services start.
     */
    private static final class Start implements Runnable {
        private final Instrumentation inst;
        private final Options options;
        private final String agentVersion;
        private final Path summary;
        private final Stack[] enabled;
        private final HookSet[] sets;
        private final PlatformMBeanServerHook jmx;
        private final HookTransformer transformer;
        private final boolean atStartup;
        private final long startedAt;

        Start(Instrumentation inst, Options options, String agentVersion, Path summary, Declared d, boolean atStartup,
              long startedAt) {
            this.inst = inst;
            this.options = options;
            this.agentVersion = agentVersion;
            this.summary = summary;
            this.enabled = d.enabled;
            this.sets = d.sets;
            this.jmx = d.jmx;
            this.transformer = d.transformer;
            this.atStartup = atStartup;
            this.startedAt = startedAt;
        }

        @Override
        public void run() {
            Outputs outputs;
            try {
                outputs = new Outputs(options, agentVersion, summary);
                Tracker tracker = new Tracker(outputs);
                tracker.attached = !atStartup;
                for (Stack s : enabled) {
                    if (s != null) {
                        s.bind(tracker);
                    }
                }
                jmx.bind(outputs);
                outputs.start(tracker);
                Dispatcher dispatcher = new Dispatcher(enabled, sets);
                String failing = System.getProperty(FaultySink.PROPERTY);
                Hooks.install(failing == null ? dispatcher : new FaultySink(dispatcher, failing));
                Runtime.getRuntime().addShutdownHook(new Thread(new AtExit(tracker, outputs), "tls-autopsy-exit"));
                StartupTiming.mark("hooks connected");
            } catch (Throwable t) {
                Hooks.install(null);
                System.err.println("tls-autopsy: not installed: " + t);
                return;
            }
            new Services(inst, transformer, enabled, outputs, atStartup, startedAt).run();
        }
    }

    /** What follows the installation: weaving what is loaded already, then the outputs' services. */
    private static final class Services implements Runnable {
        private final Instrumentation inst;
        private final HookTransformer transformer;
        private final Stack[] enabled;
        private final Outputs outputs;
        private final boolean atStartup;
        private final long startedAt;

        Services(Instrumentation inst, HookTransformer transformer, Stack[] enabled, Outputs outputs, boolean atStartup,
                 long startedAt) {
            this.inst = inst;
            this.transformer = transformer;
            this.enabled = enabled;
            this.outputs = outputs;
            this.atStartup = atStartup;
            this.startedAt = startedAt;
        }

        @Override
        public void run() {
            // the classes loaded before the transformer was registered: on attach, the JDK's and the
            // application's; at start-up, the few the JVM loaded before the agent (JDK 25 loads
            // sun.nio.ch.SocketChannelImpl that early)
            retransformLoaded(inst, transformer);
            StartupTiming.mark("loaded classes retransformed");
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
                StartupTiming.mark("JDK classes woven");
                // a library's classes are woven ahead once the application starts using the library (its
                // first class loads): an application that has Netty on its class path but no use for it
                // pays nothing
                for (Stack s : enabled) {
                    if (s != null && s.libraryClasses().length > 0) {
                        transformer.whenLibraryLoads(s.libraryClasses(), new WeaveAhead(s, transformer, inst));
                    }
                }
            }
            // a JMX server that exists already (and, on attach, one anyway) gets the MBean now; otherwise
            // the platform MBean server hook registers it when JMX is first used
            if (!atStartup || !javax.management.MBeanServerFactory.findMBeanServer(null).isEmpty()) {
                outputs.registerMBean(java.lang.management.ManagementFactory.getPlatformMBeanServer());
            }
            if (atStartup) {
                outputs.startServicesOnFirstEnding(startedAt);
            } else {
                outputs.startServices(startedAt);
            }
            StartupTiming.mark("services started");
        }
    }

    /** At JVM exit: the records still due, the final summary, and what the tracking limit cost. */
    private static final class AtExit implements Runnable {
        private final Tracker tracker;
        private final Outputs outputs;

        AtExit(Tracker tracker, Outputs outputs) {
            this.tracker = tracker;
            this.outputs = outputs;
        }

        @Override
        public void run() {
            tracker.flush();
            outputs.shutdown();
            if (tracker.untracked() > 0) {
                System.err.println("tls-autopsy: " + tracker.untracked() + " connection(s) were not recorded:"
                        + " the tracking limit (tlsautopsy.maxTracked=" + Tracker.MAX_TRACKED + ") was reached");
            }
        }
    }

    /**
     * A library's classes a stack weaves that are on the application's class path and not loaded yet,
     * woven on a thread of their own, off the thread that will load them (a Netty server loads SslHandler on
     * its event loop, in its first connection).
     */
    private static final class WeaveAhead implements Runnable {
        private final Stack stack;
        private final HookTransformer transformer;
        private final Instrumentation inst;

        WeaveAhead(Stack stack, HookTransformer transformer, Instrumentation inst) {
            this.stack = stack;
            this.transformer = transformer;
            this.inst = inst;
        }

        @Override
        public void run() {
            ClassLoader app = ClassLoader.getSystemClassLoader();
            java.util.Set<String> loaded = new java.util.HashSet<>();
            for (Class<?> c : inst.getInitiatedClasses(app)) {
                loaded.add(c.getName());
            }
            for (String name : stack.libraryClasses()) {
                if (loaded.contains(name)) {
                    continue;
                }
                try (java.io.InputStream in = app.getResourceAsStream(name.replace('.', '/') + ".class")) {
                    if (in != null) {
                        transformer.weaveAhead(name.replace('.', '/'), in.readAllBytes());
                    }
                } catch (Throwable t) {
                    // woven when it loads
                }
            }
            StartupTiming.mark("library classes woven ahead");
        }
    }

    /** The classes loaded before the agent that it weaves, retransformed one by one. */
    private static void retransformLoaded(Instrumentation inst, HookTransformer transformer) {
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            try {
                if (transformer.wants(c) && inst.isModifiableClass(c)) {
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
