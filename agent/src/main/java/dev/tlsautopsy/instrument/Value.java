package dev.tlsautopsy.instrument;

/**
 * Where a value passed to a hook comes from. Object values fill the hook's object slots in the order
 * given, primitive ones (widened to {@code long}) its number slots. Values for an exit are taken as they
 * were when the method started (the instrumented object and arguments are copied then; a field is read
 * at exit through that copy), so the original code may do what it likes with its own locals.
 */
public final class Value {

    enum Kind { SELF, ARGUMENT, FIELD, RETURNED, REMEMBERED }

    /**
     * The field {@link #remembered()} reads: the weaver adds it (private, transient, synthetic, an
     * {@code Object}) to a class whose hooks ask for it.
     */
    public static final String REMEMBERED_FIELD = "tlsautopsy$remembered";

    final Kind kind;
    final int index;
    final String field;
    /** The field's type descriptor when a superclass declares it (the class file alone does not say). */
    final String fieldType;

    private Value(Kind kind, int index, String field, String fieldType) {
        this.kind = kind;
        this.index = index;
        this.field = field;
        this.fieldType = fieldType;
    }

    /** The instrumented object ({@code this}). */
    public static Value self() {
        return new Value(Kind.SELF, -1, null, null);
    }

    /** The method's argument at {@code index} (0 is the first declared parameter). */
    public static Value arg(int index) {
        return new Value(Kind.ARGUMENT, index, null, null);
    }

    /** A field declared by the instrumented class itself, read from {@code this}. */
    public static Value field(String name) {
        return new Value(Kind.FIELD, -1, name, null);
    }

    /**
     * A field a superclass declares (visible to the instrumented class: same package, or protected), of
     * type {@code descriptor} ({@code Z}, {@code Ljava/lang/Object;}).
     */
    public static Value field(String name, String descriptor) {
        return new Value(Kind.FIELD, -1, name, descriptor);
    }

    /**
     * What a stack remembered in the instrumented object ({@link #REMEMBERED_FIELD}), null until it does.
     * The weaver adds the field when the JVM defines the class; a class already defined (an attach, a
     * class loaded before the agent) cannot take a field, and there this is always null. A stack keeps
     * here what it would otherwise look up by the object's identity on every call.
     */
    public static Value remembered() {
        return new Value(Kind.REMEMBERED, -1, null, null);
    }

    /** What the method returns (null or 0 when it throws). */
    public static Value returned() {
        return new Value(Kind.RETURNED, -1, null, null);
    }

    @Override
    public String toString() {
        switch (kind) {
            case SELF: return "this";
            case ARGUMENT: return "arg" + index;
            case FIELD: return "field " + field;
            case REMEMBERED: return "remembered";
            default: return "returned";
        }
    }
}
