package dev.tlsautopsy.instrument;

import dev.tlsautopsy.Options;
import dev.tlsautopsy.bootstrap.Hooks;
import dev.tlsautopsy.output.Outputs;
import dev.tlsautopsy.track.Tracker;
import java.lang.instrument.Instrumentation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatchers;
import net.bytebuddy.utility.JavaModule;

/** Wires tracker, outputs and hooks together and installs the hooks the options ask for. */
public final class Installer {

    /** Every hook, in one place. A new TLS stack adds its file here. */
    static List<TypeHook> all() {
        return List.of(
                new TransportContextHook(),
                new AlertHooks.Received(),
                new AlertHooks.SentBySocket(),
                new AlertHooks.SentByEngine(),
                new SslSocketHooks.Socket(),
                new SslSocketHooks.Input(),
                new SslSocketHooks.Output(),
                new SslSocketHooks.RecordReader(),
                new SslEngineHooks(),
                new SslEngineHooks.Task(),
                new SocketChannelHook(),
                new NettyHooks.Handler(),
                new NettyHooks.HandshakeFailure(),
                new NettyHooks.ChannelClose(),
                new NettyHooks.PeerEof(),
                new AnyEngineHooks());
    }

    private Installer() {
    }

    /**
     * Installs everything; returns the line the agent prints at start. At start-up ({@code premain})
     * only a name filter is registered and Byte Buddy is built on a background thread, in parallel with
     * the application's own start; a TLS class that loads before it is ready waits for it (bounded).
     * On attach everything is built at once and the loaded TLS classes are retransformed.
     */
    public static String install(Options options, Instrumentation inst, String agentVersion, boolean atStartup) {
        List<TypeHook> hooks = new ArrayList<>();
        for (TypeHook h : all()) {
            if (options.instrument.contains(h.group())) {
                hooks.add(h);
            }
        }
        Outputs outputs = new Outputs(options, agentVersion);
        LazyTransformer lazy = new LazyTransformer(hooks);
        inst.addTransformer(lazy, true);
        if (atStartup) {
            Thread init = new Thread(() -> build(inst, hooks, outputs, lazy, true), "tls-autopsy-init");
            init.setDaemon(true);
            init.start();
        } else {
            build(inst, hooks, outputs, lazy, false);
        }

        Path summary = outputs.summaryPath();
        List<String> names = new ArrayList<>();
        for (TypeHook h : hooks) {
            if (!names.contains(h.group())) {
                names.add(h.group());
            }
        }
        return "tls-autopsy " + agentVersion + ": instrumenting " + (names.isEmpty() ? "nothing" : String.join(",", names))
                + " on Java " + Runtime.version() + "; summary: " + (summary == null ? "off" : summary.toString())
                + (options.recording == null ? "" : "; recording: " + options.recording);
    }

    /** Tracker, outputs and the Byte Buddy transformer; then the TLS classes loaded so far are retransformed. */
    private static void build(Instrumentation inst, List<TypeHook> hooks, Outputs outputs, LazyTransformer lazy,
                              boolean atStartup) {
        lazy.building();
        try {
            long start = System.nanoTime();
            Tracker tracker = new Tracker(outputs);
            outputs.start(tracker::open);
            String failing = System.getProperty(FaultySink.PROPERTY);
            Hooks.install(failing == null ? tracker : FaultySink.wrap(tracker, failing));
            Thread exit = new Thread(() -> {
                tracker.flush();
                outputs.shutdown();
                if (tracker.untracked() > 0) {
                    System.err.println("tls-autopsy: " + tracker.untracked() + " connection(s) were not recorded:"
                            + " the tracking limit (tlsautopsy.maxTracked=" + Tracker.MAX_TRACKED + ") was reached");
                }
            }, "tls-autopsy-exit");
            Runtime.getRuntime().addShutdownHook(exit);

            if (LazyTransformer.TIMING) {
                System.err.println("tls-autopsy timing: tracker and outputs in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            }
            Set<String> failed = ConcurrentHashMap.newKeySet();
            AgentBuilder builder = new AgentBuilder.Default()
                    .disableClassFormatChanges()
                    .with(AgentBuilder.TypeStrategy.Default.REDEFINE)
                    .with(new ErrorListener(failed))
                    .ignore(ElementMatchers.none());
            for (TypeHook h : hooks) {
                net.bytebuddy.matcher.ElementMatcher<TypeDescription> m = h.matcher();
                // a type whose hierarchy cannot be resolved (a missing optional dependency) is simply not ours
                builder = builder.type((type, loader, module, redefined, domain) -> {
                    try {
                        return m.matches(type);
                    } catch (RuntimeException | LinkageError unresolvable) {
                        return false;
                    }
                })
                        .transform((b, type, loader, module, domain) -> h.apply(b));
            }
            long t0 = System.nanoTime();
            lazy.ready(builder.makeRaw());
            if (LazyTransformer.TIMING) {
                System.err.println("tls-autopsy timing: Byte Buddy ready after " + (System.nanoTime() - t0) / 1_000_000
                        + " ms of makeRaw, at " + (System.currentTimeMillis()
                        - ProcessHandle.current().info().startInstant().get().toEpochMilli()) + " ms since JVM start");
            }
        } catch (Throwable t) {
            lazy.failed();
            System.err.println("tls-autopsy: not installed: " + t);
            return;
        }
        List<Class<?>> loaded = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (inst.isModifiableClass(c) && lazy.wants(c)) {
                loaded.add(c);
            }
        }
        for (Class<?> c : loaded) {
            try {
                inst.retransformClasses(c);
            } catch (Throwable t) {
                System.err.println("tls-autopsy: cannot instrument " + c.getName() + ": " + t);
            }
        }
        if (atStartup) {
            // the JDK's TLS classes are instrumented here, before the application needs them, where they
            // cost start-up nothing (loaded, not initialised: no static initialiser runs early)
            for (TypeHook h : hooks) {
                if (h.typeName().startsWith("sun.")) {
                    try {
                        Class.forName(h.typeName(), false, null);
                    } catch (Throwable t) {
                        // not in this JDK: its hook simply never applies
                    }
                }
            }
            outputs.startServices();
        } else {
            Thread services = new Thread(outputs::startServices, "tls-autopsy-services");
            services.setDaemon(true);
            services.start();
        }
    }

    /** Reports a hook that could not be applied, once per type. */
    private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
        private final Set<String> failed;

        ErrorListener(Set<String> failed) {
            this.failed = failed;
        }

        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
            if (failed.add(typeName)) {
                System.err.println("tls-autopsy: cannot instrument " + typeName + ": " + error);
            }
        }

        @Override
        public void onIgnored(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded) {
            if (Boolean.getBoolean("tlsautopsy.debug") && type.getName().contains("ssl")) {
                System.err.println("tls-autopsy: ignored " + type.getName());
            }
        }

        @Override
        public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded,
                                     DynamicType dynamicType) {
            if (Boolean.getBoolean("tlsautopsy.debug")) {
                System.err.println("tls-autopsy: instrumented " + type.getName());
            }
        }
    }
}
