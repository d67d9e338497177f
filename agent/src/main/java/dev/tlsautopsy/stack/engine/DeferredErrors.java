package dev.tlsautopsy.stack.engine;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Netty's OpenSSL engine ({@code ReferenceCountedOpenSslEngine}, netty-handler 4.1.130 and 4.2.20) keeps
 * a read error in its {@code pendingException} field until a later wrap has sent the alert it caused.
 */
final class DeferredErrors {

    private static final Map<Class<?>, Optional<Field>> FIELDS = new ConcurrentHashMap<>();

    private DeferredErrors() {
    }

    /** The error an engine holds back, or null (also for any engine without such a field). */
    static Throwable pending(Object engine) {
        Optional<Field> f = FIELDS.computeIfAbsent(engine.getClass(), c -> {
            for (Class<?> k = c; k != null; k = k.getSuperclass()) {
                try {
                    Field field = k.getDeclaredField("pendingException");
                    field.setAccessible(true);
                    return Optional.of(field);
                } catch (NoSuchFieldException | RuntimeException e) {
                    // keep looking up the hierarchy
                }
            }
            return Optional.empty();
        });
        try {
            return f.isPresent() ? (Throwable) f.get().get(engine) : null;
        } catch (ReflectiveOperationException | ClassCastException e) {
            return null;
        }
    }
}
