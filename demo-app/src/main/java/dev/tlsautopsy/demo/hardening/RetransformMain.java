package dev.tlsautopsy.demo.hardening;

import dev.tlsautopsy.demo.conn.MemoryPair;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.lang.instrument.Instrumentation;
import java.nio.ByteBuffer;

/**
 * Another agent retransforms the JDK's engine class while tls-autopsy has woven it: run with
 * {@code -javaagent:<tls-autopsy> -javaagent:<a jar whose Premain-Class is this class>}. One in-memory
 * connection moves 64 KiB and closes; then the other agent retransforms {@code SSLEngineImpl}; then a second
 * connection does the same. A retransformation may not add or remove a field, so tls-autopsy must weave
 * the class with the fields it was defined with. The same for the socket and channel classes, which also take
 * the agent's field. Prints {@code fields <class> <before> <after> remembers <true|false>} for each and
 * {@code retransformed}; exits 1 if a retransformation failed.
 */
public final class RetransformMain {

    private static volatile Instrumentation instrumentation;

    private RetransformMain() {
    }

    /** The other agent: keeps its instrumentation, changes nothing itself. */
    public static void premain(String args, Instrumentation inst) {
        instrumentation = inst;
    }

    public static void main(String[] args) throws Exception {
        TlsContexts tls = new TlsContexts();
        connection(tls);
        // the classes that remember their connection in the field the agent adds where the JVM defines them
        for (String name : new String[] {"sun.security.ssl.SSLEngineImpl", "sun.security.ssl.SSLSocketImpl",
            "sun.nio.ch.SocketChannelImpl"}) {
            Class<?> c = Class.forName(name);
            int before = c.getDeclaredFields().length;
            try {
                instrumentation.retransformClasses(c);
            } catch (Throwable t) {
                System.out.println("retransformation failed: " + t);
                System.exit(1);
            }
            System.out.println("fields " + name + " " + before + " " + c.getDeclaredFields().length + " remembers "
                    + java.util.Arrays.stream(c.getDeclaredFields()).anyMatch(f -> f.getName().equals("tlsautopsy$remembered")));
        }
        connection(tls);
        System.out.println("retransformed");
    }

    private static void connection(TlsContexts tls) throws Exception {
        MemoryPair p = new MemoryPair(tls, "TLSv1.3");
        p.handshake();
        ByteBuffer chunk = ByteBuffer.allocate(16 * 1024);
        for (int i = 0; i < 4; i++) {
            chunk.clear();
            p.transfer(chunk);
        }
        p.close();
    }
}
