package dev.tlsautopsy.instrument;

import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a class being loaded extends a given class, without loading anything: its superclass chain
 * is read from class files (the class's own bytes, then its loader's resources), and remembered. At
 * transformation time a class's superclass may not be loaded yet, so the JVM cannot be asked.
 */
final class Supertypes {

    private static final String NONE = "";
    private static final int MAX_DEPTH = 16;

    private final Map<String, String> superOf = new ConcurrentHashMap<>();

    /** Whether the class in {@code classFile} has {@code target} among its superclasses. */
    boolean extendsClass(byte[] classFile, ClassLoader loader, String target) {
        String s = ClassFile.superName(classFile);
        for (int depth = 0; s != null && depth < MAX_DEPTH; depth++) {
            if (s.equals(target)) {
                return true;
            }
            if (jdk(s)) {
                // a JDK class other than the target: nothing below java.base extends into user code
                return false;
            }
            s = superOf(s, loader);
        }
        return false;
    }

    /** Whether a loaded class has {@code target} among its superclasses (attach: classes already there). */
    static boolean extendsClass(Class<?> c, String target) {
        for (Class<?> s = c.getSuperclass(); s != null; s = s.getSuperclass()) {
            if (s.getName().replace('.', '/').equals(target)) {
                return true;
            }
        }
        return false;
    }

    private static boolean jdk(String internalName) {
        return internalName.startsWith("java/") || internalName.startsWith("javax/") || internalName.startsWith("jdk/")
                || internalName.startsWith("sun/") || internalName.startsWith("com/sun/");
    }

    private String superOf(String name, ClassLoader loader) {
        String known = superOf.get(name);
        if (known != null) {
            return known == NONE ? null : known;
        }
        String found = null;
        ClassLoader l = loader != null ? loader : ClassLoader.getSystemClassLoader();
        try (InputStream in = l.getResourceAsStream(name + ".class")) {
            if (in != null) {
                found = ClassFile.superName(in.readAllBytes());
            }
        } catch (Exception | LinkageError e) {
            // unreadable: treated as not a subtype
        }
        superOf.put(name, found == null ? NONE : found);
        return found;
    }
}
