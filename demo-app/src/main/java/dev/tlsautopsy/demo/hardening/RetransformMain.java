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
 * the class with the fields it was defined with. Prints {@code engine fields <before> <after>} and
 * {@code retransformed}; exits 1 if the retransformation failed.
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
        Class<?> engine = Class.forName("sun.security.ssl.SSLEngineImpl");
        int before = engine.getDeclaredFields().length;
        try {
            instrumentation.retransformClasses(engine);
        } catch (Throwable t) {
            System.out.println("retransformation failed: " + t);
            System.exit(1);
        }
        System.out.println("engine fields " + before + " " + engine.getDeclaredFields().length);
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
