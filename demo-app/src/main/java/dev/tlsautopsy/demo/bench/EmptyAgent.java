package dev.tlsautopsy.demo.bench;

import java.lang.instrument.Instrumentation;

/**
 * An agent that does nothing: what {@code -javaagent} costs a JVM's start before any agent's own work
 * ({@code Bench --floor}). The JVM still adds the java.instrument module, which switches off class data
 * sharing's archived module graph, and opens the agent's jar.
 */
public final class EmptyAgent {

    private EmptyAgent() {
    }

    public static void premain(String args, Instrumentation inst) {
        // nothing
    }
}
