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

    /** Installs everything; returns the line the agent prints at start. */
    public static String install(Options options, Instrumentation inst, String agentVersion) {
        Outputs outputs = new Outputs(options, agentVersion);
        Tracker tracker = new Tracker(outputs);
        outputs.start(tracker::open);
        String failing = System.getProperty(FaultySink.PROPERTY);
        Hooks.install(failing == null ? tracker : FaultySink.wrap(tracker, failing));
        Thread exit = new Thread(() -> {
            tracker.flush();
            outputs.shutdown();
        }, "tls-autopsy-exit");
        Runtime.getRuntime().addShutdownHook(exit);

        List<TypeHook> hooks = new ArrayList<>();
        for (TypeHook h : all()) {
            if (options.instrument.contains(h.group())) {
                hooks.add(h);
            }
        }
        Set<String> failed = ConcurrentHashMap.newKeySet();
        AgentBuilder builder = new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
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
        builder.installOn(inst);

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
