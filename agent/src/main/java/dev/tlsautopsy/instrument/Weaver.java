package dev.tlsautopsy.instrument;

import dev.tlsautopsy.instrument.HookSet.MethodHook;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weaves hook calls into a class file: each hooked method's Code attribute is rewritten
 * ({@link CodeRewriter}), the constants it needs are appended to the pool, and everything else is copied
 * byte for byte. No library, no class loaded, no type hierarchy: weaving a JDK class at start-up costs
 * a fraction of a millisecond of work. Retransformation adds no method or field, so the same weaving
 * serves {@code -javaagent} and {@code attach}; the one field it may add ({@link Value#remembered()}) is
 * added only where the JVM defines the class, and its value is null elsewhere.
 */
final class Weaver {

    private Weaver() {
    }

    /**
     * The class with its hooked methods woven, or null when none matched. A method a hook cannot be
     * woven into (a missing field, a wrong argument) is left alone and named in {@code problems}.
     */
    static byte[] weave(byte[] classFile, List<MethodHook> hooks, List<String> problems) {
        return weave(classFile, hooks, problems, true);
    }

    /**
     * {@code mayAddField}: whether the class may take {@link Value#REMEMBERED_FIELD} if a hook asks for it
     * (the JVM defines it now, or it has the field from its definition); if not, those values are null.
     */
    static byte[] weave(byte[] classFile, List<MethodHook> hooks, List<String> problems, boolean mayAddField) {
        ClassFile cf = new ClassFile(classFile);
        cf.addRemembered = mayAddField && cf.fieldType(Value.REMEMBERED_FIELD) == null && asksForRemembered(cf, hooks);
        Map<ClassFile.Method, byte[]> codes = new IdentityHashMap<>();
        Set<MethodHook> matched = new HashSet<>();
        for (ClassFile.Method m : cf.methods) {
            if ((m.access & 0x0400) != 0 || (m.access & 0x0100) != 0) {
                continue;   // abstract, native
            }
            for (MethodHook h : hooks) {
                if (h.match.matches(m.access, m.name, m.descriptor)) {
                    matched.add(h);
                    String problem = m.codeAttribute < 0 ? "no code" : check(h, m.access, m.name, m.descriptor, cf);
                    if (problem == null) {
                        try {
                            codes.put(m, new CodeRewriter(cf, m, h).rewrite());
                        } catch (CodeRewriter.Unsupported e) {
                            problem = e.getMessage();
                        }
                    }
                    if (problem != null) {
                        problems.add(cf.name.replace('/', '.') + "." + m.name + m.descriptor + ": " + problem);
                    }
                    break;
                }
            }
        }
        for (MethodHook h : hooks) {
            if (h.required && !matched.contains(h)) {
                problems.add(cf.name.replace('/', '.') + ": no method " + h.label);
            }
        }
        return codes.isEmpty() ? null : cf.rewrite(codes);
    }

    private static boolean asksForRemembered(ClassFile cf, List<MethodHook> hooks) {
        for (ClassFile.Method m : cf.methods) {
            for (MethodHook h : hooks) {
                if (h.match.matches(m.access, m.name, m.descriptor)) {
                    for (Value[] values : new Value[][] {h.enter, h.exit}) {
                        for (Value v : values == null ? new Value[0] : values) {
                            if (v.kind == Value.Kind.REMEMBERED) {
                                return true;
                            }
                        }
                    }
                    break;
                }
            }
        }
        return false;
    }

    /** A field's type: declared by the class itself, or given with the value for an inherited one. */
    static String fieldType(Value v, ClassFile cf) {
        String declared = cf.fieldType(v.field);
        return declared != null ? declared : v.fieldType;
    }

    /** Why {@code h} cannot be woven into this method, or null. */
    private static String check(MethodHook h, int access, String name, String descriptor, ClassFile cf) {
        boolean constructor = name.equals("<init>");
        if (constructor && (h.enter != null || h.atThrow || h.lookup)) {
            return "a constructor takes an exit on return only";
        }
        List<String> args = Descriptors.argumentTypes(descriptor);
        for (Value[] values : new Value[][] {h.enter, h.exit}) {
            if (values == null) {
                continue;
            }
            int objects = 0;
            int numbers = 0;
            for (Value v : values) {
                String type;
                switch (v.kind) {
                    case SELF:
                        if ((access & 0x0008) != 0) {
                            return "no 'this' in a static method";
                        }
                        type = "L;";
                        break;
                    case ARGUMENT:
                        if (v.index >= args.size()) {
                            return "no argument " + v.index;
                        }
                        type = args.get(v.index);
                        break;
                    case FIELD:
                        if ((access & 0x0008) != 0) {
                            return "no 'this' to read field " + v.field + " from";
                        }
                        type = fieldType(v, cf);
                        if (type == null) {
                            return "no field " + v.field;
                        }
                        break;
                    case REMEMBERED:
                        if ((access & 0x0008) != 0) {
                            return "nothing to remember in a static method";
                        }
                        type = "Ljava/lang/Object;";
                        break;
                    default:
                        if (values == h.enter) {
                            return "no return value when the method starts";
                        }
                        type = Descriptors.returnType(descriptor);
                        if (type.equals("V")) {
                            return "returns nothing";
                        }
                }
                if (Descriptors.primitive(type)) {
                    numbers++;
                } else {
                    objects++;
                }
            }
            if (numbers > 2 || objects > (values == h.enter ? 4 : 3)) {
                return "too many values";
            }
        }
        return null;
    }
}
