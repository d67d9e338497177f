package dev.tlsautopsy.instrument;

import dev.tlsautopsy.bootstrap.Sink;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * For tests of the guarantee that a broken hook never hurts the application: with the system
 * property {@code tlsautopsy.debug.failHook=NAME}, the sink method NAME throws on every call.
 */
final class FaultySink {

    static final String PROPERTY = "tlsautopsy.debug.failHook";

    private FaultySink() {
    }

    static Sink wrap(Sink real, String failing) {
        return (Sink) Proxy.newProxyInstance(Sink.class.getClassLoader(), new Class<?>[] {Sink.class},
                (proxy, method, args) -> {
                    if (method.getName().equals(failing)) {
                        throw new IllegalStateException("deliberately broken hook " + failing);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
