package dev.tlsautopsy.demo.bench;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * An agent that does nothing: what {@code -javaagent} costs a JVM's start before any agent's own work
 * ({@code Bench --floor}). The JVM still adds the java.instrument module, which switches off class data
 * sharing's archived module graph, and opens the agent's jar. With the option {@code transformer} it
 * registers a transformer that changes no class: what weaving at load costs before any weaving, since
 * the JVM then hands every class it loads to Java as a new byte array (for a class from the class data
 * sharing archive, read from the JDK's image first).
 */
public final class EmptyAgent {

    private EmptyAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        if ("transformer".equals(args)) {
            inst.addTransformer(new ClassFileTransformer() {
                @Override
                public byte[] transform(ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
                                        byte[] classFile) {
                    return null;
                }
            }, true);
        }
    }
}
