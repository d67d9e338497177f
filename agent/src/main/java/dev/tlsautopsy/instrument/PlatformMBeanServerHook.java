package dev.tlsautopsy.instrument;

import static dev.tlsautopsy.instrument.Value.returned;

import dev.tlsautopsy.output.Outputs;
import dev.tlsautopsy.track.Tracker;
import javax.management.MBeanServer;

/**
 * Not a TLS stack: the one output that needs a hook. {@code ManagementFactory.getPlatformMBeanServer()} is
 * how everything reaches JMX (the application, the JMX connector of {@code -Dcom.sun.management.jmxremote}
 * or {@code jcmd ManagementAgent.start}, the Prometheus JMX exporter, {@code attach}'s local connector):
 * when it returns, the agent's MBean is registered in the server, so that a JVM where nobody uses JMX
 * never starts it for the agent's sake. Checked on JDK 17.0.15 and 25.0.3.
 */
final class PlatformMBeanServerHook implements Stack {

    private static final int SERVER = 0;

    private volatile Outputs outputs;
    /** The registration itself asks for the server: that call is not a new one. */
    private final ThreadLocal<Boolean> registering = new ThreadLocal<>();

    @Override
    public void bind(Tracker tracker) {
        // it reports to the outputs, not the tracker: see bind(Outputs)
    }

    void bind(Outputs outputs) {
        this.outputs = outputs;
    }

    @Override
    public String group() {
        return "jmx";
    }

    @Override
    public void declare(HookSet hooks) {
        hooks.type("java.lang.management.ManagementFactory")
                .method(SERVER, "getPlatformMBeanServer", "()Ljavax/management/MBeanServer;")
                .exitOnReturn(returned());
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        return null;
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        if (a instanceof MBeanServer && registering.get() == null) {
            registering.set(Boolean.TRUE);
            try {
                outputs.registerMBean((MBeanServer) a);
            } finally {
                registering.remove();
            }
        }
    }
}
