package dev.tlsautopsy.track;

import java.security.AccessController;
import java.security.PrivilegedAction;

/**
 * The agent's background threads. Most start on an application's thread, inside a hook (the first
 * connection that needs one), and a new thread keeps what it inherits from the thread that makes it: the
 * context class loader (a web application's, which its undeploy could then never release), the inheritable
 * thread locals, and before JDK 24 the access control context of every frame on the stack (the
 * application's protection domains, and through them its class loader). An agent thread inherits none of
 * them: it is made inside a privileged block (the context is the agent's own, whose classes the boot loader
 * defines), without inheritable thread locals, with no context class loader.
 */
public final class AgentThreads {

    private AgentThreads() {
    }

    /** A daemon thread named {@code name} that runs {@code task}; not started. */
    @SuppressWarnings("removal")
    public static Thread daemon(Runnable task, String name) {
        return AccessController.doPrivileged(new Make(task, name));
    }

    /** No lambda: a connection's first path spins no lambda class. */
    private static final class Make implements PrivilegedAction<Thread> {
        private final Runnable task;
        private final String name;

        Make(Runnable task, String name) {
            this.task = task;
            this.name = name;
        }

        @Override
        public Thread run() {
            Thread t = new Thread(null, task, name, 0, false);
            t.setDaemon(true);
            t.setContextClassLoader(null);
            return t;
        }
    }
}
