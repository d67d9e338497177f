package dev.tlsautopsy.instrument;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Stores into the field the weaver added for {@link Value#remembered()}, in an object of an application's
 * class: the nearest one up from the object's class, which is the one the outermost woven call reads. The
 * handle comes from a private lookup into that class, which a class on the class path allows (its module
 * opens every package); a class that has no field (defined before the agent) or that lives in a module
 * that does not open its package gets none, and its hooks keep looking the object up.
 */
public final class RememberedField {

    private static final ClassValue<VarHandle> HANDLES = new ClassValue<>() {
        @Override
        protected VarHandle computeValue(Class<?> type) {
            // by name alone: listing a class's fields would load the types of all of them, optional
            // dependencies' included
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                try {
                    return MethodHandles.privateLookupIn(c, MethodHandles.lookup())
                            .findVarHandle(c, Value.REMEMBERED_FIELD, Object.class);
                } catch (Throwable notHereOrNotOpen) {
                    // a superclass's private field is not this class's to write: look there
                }
            }
            return null;
        }
    };

    private RememberedField() {
    }

    /** Makes {@code target} remember {@code value}, where its class has the field and it can be written. */
    public static void store(Object target, Object value) {
        VarHandle h = HANDLES.get(target.getClass());
        if (h != null) {
            h.setRelease(target, value);
        }
    }
}
