package dev.tlsautopsy.instrument;

import dev.tlsautopsy.StartupTiming;
import dev.tlsautopsy.instrument.HookSet.MethodHook;
import dev.tlsautopsy.instrument.HookSet.TypeHooks;
import dev.tlsautopsy.track.AgentThreads;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's only class file transformer. For every class the JVM loads it does two hash lookups on the
 * name and the subtype rules' name checks (one rule): it runs thousands of times while an application
 * starts, and a longer loop there would make the JIT's most expensive compiler take it on, at the cost of
 * the application's start. Only the classes some stack declared are parsed and woven.
 */
final class HookTransformer implements ClassFileTransformer {

    static final boolean DEBUG = Boolean.getBoolean("tlsautopsy.debug");

    private final Map<String, List<TypeHooks>> exact = new HashMap<>();
    /** Relocated types by their simple name (what follows the last {@code /}), the only part they share. */
    private final Map<String, List<TypeHooks>> relocated = new HashMap<>();
    private final List<TypeHooks> subtypes = new ArrayList<>();
    private final Supertypes supertypes = new Supertypes();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();
    /** Classes woven ahead, by internal name: {the class file read from the class path, woven or null}. */
    private final Map<String, byte[][]> ahead = new ConcurrentHashMap<>();
    /** By a library's top package (internal name, e.g. {@code io/netty/}): what to do when it is first used. */
    private final Map<String, Runnable> onLibrary = new ConcurrentHashMap<>();

    HookTransformer(List<HookSet> sets) {
        for (HookSet s : sets) {
            for (TypeHooks t : s.types) {
                switch (t.match) {
                    case EXACT: put(exact, t.name, t); break;
                    case RELOCATED: put(relocated, simpleName(t.name), t); break;
                    default: subtypes.add(t);
                }
            }
        }
    }

    private static void put(Map<String, List<TypeHooks>> map, String key, TypeHooks t) {
        List<TypeHooks> same = map.get(key);
        if (same == null) {
            same = new ArrayList<>();
            map.put(key, same);
        }
        same.add(t);
    }

    private static String simpleName(String internalName) {
        return internalName.substring(internalName.lastIndexOf('/') + 1);
    }

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> classBeingRedefined,
                            ProtectionDomain domain, byte[] classfileBuffer) {
        if (className == null) {
            return null;
        }
        List<MethodHook> hooks = null;
        try {
            if (!onLibrary.isEmpty() && loader == ClassLoader.getSystemClassLoader()) {
                libraryLoading(className);
            }
            if (!ahead.isEmpty() && classBeingRedefined == null && loader == ClassLoader.getSystemClassLoader()) {
                byte[][] w = ahead.remove(className);
                if (w != null && java.util.Arrays.equals(w[0], classfileBuffer)) {
                    return w[1];
                }
            }
            long t0 = StartupTiming.ON ? System.nanoTime() : 0;
            hooks = hooksFor(className, loader, classfileBuffer);
            if (StartupTiming.ON) {
                StartupTiming.filtered(System.nanoTime() - t0);
            }
            if (hooks == null) {
                return null;
            }
            List<String> problems = new ArrayList<>();
            StartupTiming.mark("weaving " + className);
            // a class retransformed keeps the fields it was defined with: if this transformer wove it when the
            // JVM defined it, the same weaving of the same class file gave it the field a hook remembers in
            // then (known without reflection, which would load the types of all its fields from inside the
            // retransformation)
            byte[] woven = Weaver.weave(classfileBuffer, hooks, problems,
                    classBeingRedefined == null || definedWoven(loader, className));
            if (classBeingRedefined == null && woven != null) {
                synchronized (wovenAtDefinition) {
                    Set<String> names = wovenAtDefinition.get(loader == null ? BOOT : loader);
                    if (names == null) {
                        names = new java.util.HashSet<>();
                        wovenAtDefinition.put(loader == null ? BOOT : loader, names);
                    }
                    names.add(className);
                }
            }
            StartupTiming.mark("woven " + className);
            if (!problems.isEmpty() && warned.add(className)) {
                System.err.println("tls-autopsy: cannot instrument " + String.join("; ", problems));
            }
            if (DEBUG) {
                System.err.println("tls-autopsy: instrumented " + className + (woven == null ? " (no method matched)" : ""));
            }
            return woven;
        } catch (Throwable t) {
            if (warned.add(className)) {
                System.err.println("tls-autopsy: cannot instrument " + className.replace('/', '.') + ": " + t);
            }
            return null;
        }
    }

    /** By class loader (the boot loader as {@link #BOOT}), the classes this transformer wove as they were defined. */
    private final Map<Object, Set<String>> wovenAtDefinition = new java.util.WeakHashMap<>();
    private static final Object BOOT = new Object();

    private boolean definedWoven(ClassLoader loader, String className) {
        synchronized (wovenAtDefinition) {
            Set<String> names = wovenAtDefinition.get(loader == null ? BOOT : loader);
            return names != null && names.contains(className);
        }
    }

    /**
     * Runs {@code then} on a thread of its own when the application class loader first loads a class of the
     * library these classes belong to (their first two package names).
     */
    void whenLibraryLoads(String[] classNames, Runnable then) {
        String[] parts = classNames[0].split("\\.");
        onLibrary.put(parts[0] + "/" + parts[1] + "/", then);
    }

    private void libraryLoading(String className) {
        for (String library : onLibrary.keySet()) {
            if (className.startsWith(library)) {
                Runnable r = onLibrary.remove(library);
                if (r != null) {
                    try {
                        // started from the application's thread, inheriting nothing of it
                        AgentThreads.daemon(r, "tls-autopsy-ahead").start();
                    } catch (Throwable t) {
                        // the library's classes are woven as they load
                    }
                }
            }
        }
    }

    /**
     * Weaves a class of the application's class path before it loads ({@code internalName}'s class file
     * as read from there); when it loads with exactly these bytes, the woven ones are used as they are.
     */
    void weaveAhead(String internalName, byte[] classFile) {
        // null woven bytes too: a class none of whose own methods is hooked loads as it is
        ahead.put(internalName, new byte[][] {classFile,
            transform(null, ClassLoader.getSystemClassLoader(), internalName, null, null, classFile)});
    }

    /** The hooks for this class, or null: by name, then (for candidates only) by superclass. */
    private List<MethodHook> hooksFor(String className, ClassLoader loader, byte[] classFile) {
        List<MethodHook> out = null;
        List<TypeHooks> byName = exact.get(className);
        if (byName != null) {
            out = add(out, byName);
        }
        List<TypeHooks> bySimpleName = relocated.isEmpty() ? null : relocated.get(simpleName(className));
        if (bySimpleName != null) {
            out = relocated(out, bySimpleName, className);
        }
        // one rule today (the engine stack's): a loop of one turn stays below the JIT's thresholds
        for (TypeHooks t : subtypes) {
            if (t.candidate.test(className) && supertypes.extendsClass(classFile, loader, t.name)) {
                out = add(out, List.of(t));
            }
        }
        return out;
    }

    private static List<MethodHook> relocated(List<MethodHook> out, List<TypeHooks> types, String className) {
        for (TypeHooks t : types) {
            if (t.matchesName(className)) {
                out = add(out, List.of(t));
            }
        }
        return out;
    }

    private static List<MethodHook> add(List<MethodHook> out, List<TypeHooks> types) {
        List<MethodHook> o = out == null ? new ArrayList<>() : out;
        for (TypeHooks t : types) {
            o.addAll(t.methods);
        }
        return o;
    }

    /** A class loaded before this transformer was registered (attach) that it would weave. */
    boolean wants(Class<?> c) {
        String name = c.getName().replace('.', '/');
        if (exact.containsKey(name)) {
            return true;
        }
        List<TypeHooks> bySimpleName = relocated.get(simpleName(name));
        if (bySimpleName != null && relocated(null, bySimpleName, name) != null) {
            return true;
        }
        for (TypeHooks t : subtypes) {
            if (t.candidate.test(name) && !c.isInterface() && Supertypes.extendsClass(c, t.name)) {
                return true;
            }
        }
        return false;
    }
}
