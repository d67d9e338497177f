package dev.tlsautopsy.instrument;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What one TLS stack asks to be woven: which methods of which types call
 * {@link dev.tlsautopsy.bootstrap.Hooks#enter} and {@link dev.tlsautopsy.bootstrap.Hooks#exit}, under
 * which hook number, with which {@link Value}s. A stack numbers its hooks 0 to {@value #PER_STACK}-1;
 * the set turns them into the numbers woven into bytecode.
 *
 * <pre>
 * TypeHooks ctx = hooks.type("sun.security.ssl.TransportContext");
 * ctx.method(KICKSTART, "kickstart", "()V").enter(field("transport"));
 * ctx.method(FATAL, "fatal", 4).enter(field("transport"), arg(0), arg(3), field("closeReason"), arg(2))
 *    .exit(field("transport"));
 * </pre>
 */
public final class HookSet {

    public static final int PER_STACK = 64;

    /**
     * Which methods of a type, as the class file spells them: by name, and optionally by exact descriptor,
     * argument count, public access, return type and first argument's type. (Data, not lambdas: declaring
     * hooks is on the application's start-up path.)
     */
    public static final class Methods {
        final String[] names;
        String descriptor;
        int arguments = -1;
        boolean publicOnly;
        String returns;
        String[] firstArgument;

        private Methods(String[] names) {
            this.names = names;
        }

        /** Methods of any of these names. */
        public static Methods named(String... names) {
            return new Methods(names);
        }

        public Methods descriptor(String d) {
            this.descriptor = d;
            return this;
        }

        public Methods arguments(int n) {
            this.arguments = n;
            return this;
        }

        public Methods publicOnly() {
            this.publicOnly = true;
            return this;
        }

        /** Returning this type ({@code Ljavax/net/ssl/SSLEngineResult;}). */
        public Methods returning(String typeDescriptor) {
            this.returns = typeDescriptor;
            return this;
        }

        /** Whose first argument is one of these types. */
        public Methods firstArgument(String... typeDescriptors) {
            this.firstArgument = typeDescriptors;
            return this;
        }

        boolean matches(int access, String name, String d) {
            boolean named = false;
            for (String n : names) {
                named |= n.equals(name);
            }
            if (!named || (descriptor != null && !descriptor.equals(d)) || (publicOnly && (access & 0x0001) == 0)
                    || (returns != null && !d.endsWith(")" + returns))) {
                return false;
            }
            if (arguments >= 0 && Descriptors.arguments(d) != arguments) {
                return false;
            }
            if (firstArgument != null) {
                boolean any = false;
                for (String t : firstArgument) {
                    any |= d.startsWith("(" + t);
                }
                return any;
            }
            return true;
        }

        String label() {
            return names.length == 1 ? names[0] : String.join("/", names);
        }
    }

    final int base;
    final String stack;
    final List<TypeHooks> types = new ArrayList<>();
    final String[] names = new String[PER_STACK];

    HookSet(int stackIndex, String stack) {
        this.base = stackIndex * PER_STACK;
        this.stack = stack;
    }

    /** Exactly the class of this name. */
    public TypeHooks type(String className) {
        return add(new TypeHooks(TypeHooks.Match.EXACT, className.replace('.', '/'), null));
    }

    /**
     * A Netty class under its own name or relocated under any package prefix that contains
     * {@code netty} (grpc-netty-shaded's {@code io.grpc.netty.shaded.io.netty.}, the Cassandra driver's
     * {@code com.datastax.oss.driver.shaded.netty.}): a shaded Netty is Netty.
     */
    public TypeHooks netty(String className) {
        if (!className.startsWith("io.netty.")) {
            throw new IllegalArgumentException(className + " is not a Netty class name");
        }
        return add(new TypeHooks(TypeHooks.Match.RELOCATED, className.substring("io.netty.".length()).replace('.', '/'), null));
    }

    /**
     * Every class below {@code superClass} whose internal name passes {@code candidate} (checked first: a
     * class's supertypes are looked up only for candidates).
     */
    public TypeHooks subtypesOf(String superClass, Predicate<String> candidate) {
        return add(new TypeHooks(TypeHooks.Match.SUBTYPE, superClass.replace('.', '/'), candidate));
    }

    private TypeHooks add(TypeHooks t) {
        t.set = this;
        types.add(t);
        return t;
    }

    int global(int hook, String name) {
        if (hook < 0 || hook >= PER_STACK) {
            throw new IllegalArgumentException("hook number " + hook + " outside 0.." + (PER_STACK - 1));
        }
        if (names[hook] == null) {
            names[hook] = stack + ":" + name;
        }
        return base + hook;
    }

    /** The methods of one kind of type that are woven. */
    public static final class TypeHooks {

        enum Match { EXACT, RELOCATED, SUBTYPE }

        final Match match;
        /** EXACT: the internal name; RELOCATED: the name below {@code io/netty/}; SUBTYPE: the supertype's. */
        final String name;
        final Predicate<String> candidate;
        final List<MethodHook> methods = new ArrayList<>();
        HookSet set;

        TypeHooks(Match match, String name, Predicate<String> candidate) {
            this.match = match;
            this.name = name;
            this.candidate = candidate;
        }

        /** The method of this name and descriptor, e.g. {@code "read", "([BII)I"}. */
        public MethodHook method(int hook, String name, String descriptor) {
            return methods(hook, Methods.named(name).descriptor(descriptor));
        }

        /** The methods of this name taking this many arguments. */
        public MethodHook method(int hook, String name, int arguments) {
            return methods(hook, Methods.named(name).arguments(arguments));
        }

        /** The methods {@code match} accepts. */
        public MethodHook methods(int hook, Methods match) {
            return add(hook, match.label(), match);
        }

        /** Every constructor: only {@link MethodHook#exitOnReturn} applies. */
        public MethodHook constructors(int hook) {
            return methods(hook, Methods.named("<init>"));
        }

        private MethodHook add(int hook, String label, Methods match) {
            String simple = name.substring(name.lastIndexOf('/') + 1);
            MethodHook m = new MethodHook(set.global(hook, simple + "." + label), label, match, this.match != Match.SUBTYPE);
            methods.add(m);
            return m;
        }

        boolean matchesName(String internalName) {
            switch (match) {
                case EXACT:
                    return internalName.equals(name);
                case RELOCATED:
                    if (!internalName.endsWith(name)) {
                        return false;
                    }
                    int cut = internalName.length() - name.length();
                    return cut > 0 && internalName.charAt(cut - 1) == '/'
                            && internalName.substring(0, cut).contains("netty");
                default:
                    return false;
            }
        }
    }

    /** One woven method: the values for its enter and exit calls. */
    public static final class MethodHook {
        final int hook;
        final String label;
        final Methods match;
        /** A type named exactly must have this method: its absence is reported (a JDK or Netty change). */
        final boolean required;
        Value[] enter;
        Value[] exit;
        boolean atReturn;
        boolean atThrow;
        /** A return calls the exit only if its first number (n, what {@link Value#returned()} gave) is negative. */
        boolean onlyNegative;
        boolean lookup;
        boolean noStartWait;

        MethodHook(int hook, String label, Methods match, boolean required) {
            this.hook = hook;
            this.label = label;
            this.match = match;
            this.required = required;
        }

        /** Calls {@code Hooks.enter} when the method starts; what it returns goes to the exit call. */
        public MethodHook enter(Value... values) {
            check(values, 4, "enter");
            this.enter = values;
            return this;
        }

        /** Calls {@code Hooks.exit} at every return and when the method throws. */
        public MethodHook exit(Value... values) {
            return exit(true, true, values);
        }

        /** Calls {@code Hooks.exit} at every return only (the only exit a constructor gets). */
        public MethodHook exitOnReturn(Value... values) {
            return exit(true, false, values);
        }

        /** Calls {@code Hooks.exit} only when the method throws: a return costs nothing. */
        public MethodHook exitOnThrow(Value... values) {
            return exit(false, true, values);
        }

        /**
         * Calls {@code Hooks.exit} when the method throws, and at a return only if it returned a negative
         * number (a read's -1): the first number among {@code values} must be {@link Value#returned()}.
         */
        public MethodHook exitOnThrowOrNegative(Value... values) {
            for (Value v : values) {
                if (v.kind == Value.Kind.RETURNED) {
                    exit(true, true, values);
                    this.onlyNegative = true;
                    return this;
                }
            }
            throw new IllegalArgumentException("a filter on the returned value needs returned() among the values");
        }

        /**
         * Before anything else, hands the stack a {@code MethodHandles.Lookup} created in the woven class
         * while the stack wants one ({@link Stack#wantsLookup()}).
         */
        public MethodHook grantsLookup() {
            this.lookup = true;
            return this;
        }

        /**
         * Runs on while the agent is still starting instead of waiting for it: for methods every
         * application calls (a plain {@code SocketChannel}'s read and write), whose events before the
         * start cannot concern a connection the agent tracks.
         */
        public MethodHook withoutStartWait() {
            this.noStartWait = true;
            return this;
        }

        private MethodHook exit(boolean atReturn, boolean atThrow, Value[] values) {
            check(values, 3, "exit");
            this.exit = values;
            this.atReturn = atReturn;
            this.atThrow = atThrow;
            return this;
        }

        private static void check(Value[] values, int objects, String what) {
            if (values.length > objects + 2) {
                throw new IllegalArgumentException("too many values for " + what + ": " + values.length);
            }
        }
    }
}
