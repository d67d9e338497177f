package dev.tlsautopsy.instrument;

import static dev.tlsautopsy.instrument.Value.arg;
import static dev.tlsautopsy.instrument.Value.field;
import static dev.tlsautopsy.instrument.Value.returned;
import static dev.tlsautopsy.instrument.Value.self;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tlsautopsy.bootstrap.Hooks;
import dev.tlsautopsy.bootstrap.Sink;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The weaver on a class of every shape a hook meets (loops, inner handlers, long and array arguments,
 * static methods, constructors, throws): the woven class must load (the JVM verifies it) and call the
 * hooks with exactly the values asked for, and behave exactly as before.
 */
class WeaverTest {

    /** The class woven in these tests. */
    public static class Sample {
        public final String name;
        int counter;

        public Sample(String name) {
            this.name = name;
        }

        public Sample(String name, int counter) {
            this(name);
            this.counter = counter;
        }

        public int read(byte[] buf, int off, int len) {
            int n = 0;
            for (int i = off; i < off + len && i < buf.length; i++) {
                n++;
            }
            counter += n;
            return n;
        }

        public int echo(int n) {
            if (n == 99) {
                throw new IllegalStateException("closed");
            }
            return n;
        }

        public long total(long a, int b, double c) {
            long sum = a + b + (long) c;
            if (sum < 0) {
                throw new IllegalArgumentException("negative " + sum);
            }
            return sum;
        }

        public String recover(String in) {
            try {
                if (in == null) {
                    throw new IllegalStateException("inner");
                }
                return in.toUpperCase();
            } catch (IllegalStateException e) {
                return "recovered";
            }
        }

        public void fail(String message) throws IOException {
            synchronized (this) {
                counter = -1;
                throw new IOException(message);
            }
        }

        public static Object pick(Object[] things, int i) {
            return things[i];
        }
    }

    /** Records every call the woven code makes. */
    static class Recording implements Sink {
        final List<String> calls = new ArrayList<>();
        Object token = "token";

        @Override
        public synchronized Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
            calls.add("enter " + hook + " " + Arrays.asList(text(a), text(b), text(c), text(d)) + " " + n + " " + m);
            return token;
        }

        @Override
        public synchronized void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
            calls.add("exit " + hook + " " + token + " " + Arrays.asList(text(a), text(b), text(c)) + " " + n + " " + m
                    + " " + (thrown == null ? "-" : thrown.getMessage()));
        }

        @Override
        public boolean wantsLookup(int hook) {
            return true;
        }

        @Override
        public synchronized void lookup(int hook, Object lookup) {
            calls.add("lookup " + hook + " " + ((java.lang.invoke.MethodHandles.Lookup) lookup).lookupClass().getName().replaceAll(".*\\$", ""));
        }

        @Override
        public String name(int hook) {
            return "hook" + hook;
        }

        private static String text(Object o) {
            if (o != null && o.getClass().getName().equals(Sample.class.getName())) {
                try {
                    return "sample:" + o.getClass().getField("name").get(o);
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
            return o instanceof byte[] ? "bytes" : String.valueOf(o);
        }
    }

    private final Recording recording = new Recording();

    @BeforeEach
    void install() {
        Hooks.install(recording);
    }

    @AfterEach
    void uninstall() {
        Hooks.install(null);
    }

    private static Class<?> weave(HookSet hooks, List<String> problems) throws Exception {
        return weave(hooks, problems, true);
    }

    /** {@link Sample}'s class file as compiled. */
    private static byte[] sampleClassFile() throws IOException {
        try (InputStream in = WeaverTest.class.getClassLoader()
                .getResourceAsStream(Sample.class.getName().replace('.', '/') + ".class")) {
            return in.readAllBytes();
        }
    }

    private static Class<?> weave(HookSet hooks, List<String> problems, boolean mayAddField) throws Exception {
        byte[] original = sampleClassFile();
        List<HookSet.MethodHook> methods = new ArrayList<>();
        hooks.types.forEach(t -> methods.addAll(t.methods));
        byte[] woven = Weaver.weave(original, methods, problems, mayAddField);
        ClassLoader loader = new ClassLoader(WeaverTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (name.equals(Sample.class.getName())) {
                    synchronized (getClassLoadingLock(name)) {
                        Class<?> c = findLoadedClass(name);
                        return c != null ? c : defineClass(name, woven, 0, woven.length);
                    }
                }
                return super.loadClass(name, resolve);
            }
        };
        return Class.forName(Sample.class.getName(), true, loader);
    }

    private static Object call(Object target, Class<?> c, String name, Object... args) throws Throwable {
        for (Method m : c.getMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() == args.length) {
                try {
                    return m.invoke(target, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }
        }
        throw new NoSuchMethodException(name);
    }

    @Test
    void aClassWovenAheadLoadsWithThoseBytesOnlyIfItsClassFileIsTheSame() throws Exception {
        HookSet hooks = new HookSet(1, "test");
        hooks.type(Sample.class.getName()).method(0, "read", "([BII)I").enter(self()).exit(returned());
        HookTransformer transformer = new HookTransformer(List.of(hooks));
        String name = Sample.class.getName().replace('.', '/');
        byte[] original = sampleClassFile();
        ClassLoader app = ClassLoader.getSystemClassLoader();
        transformer.weaveAhead(name, original.clone());
        byte[] ahead = transformer.transform(null, app, name, null, null, original.clone());
        assertTrue(ahead != null && !Arrays.equals(ahead, original), "woven ahead");
        // used once: the next load of the same bytes is woven anew, to the same result
        byte[] again = transformer.transform(null, app, name, null, null, original.clone());
        assertTrue(again != ahead && Arrays.equals(again, ahead));
        // a class file that differs from the one woven ahead (a string constant changed) is woven as it is
        byte[] changed = original.clone();
        int at = new String(changed, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("negative ");
        changed[at] = 'N';
        transformer.weaveAhead(name, changed);
        byte[] woven = transformer.transform(null, app, name, null, null, original.clone());
        assertTrue(Arrays.equals(woven, ahead), "the loaded class file is what is woven");
        transformer.weaveAhead(name, original.clone());
        byte[] other = transformer.transform(null, new ClassLoader(app) { }, name, null, null, original.clone());
        assertTrue(Arrays.equals(other, ahead), "another loader's class is woven as it loads, to the same result");
    }

    @Test
    void aLibrarysClassesAreWovenAheadOnlyOnceTheApplicationUsesIt() throws Exception {
        HookTransformer transformer = new HookTransformer(List.of(new HookSet(1, "test")));
        java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
        transformer.whenLibraryLoads(new String[] {"org.lib.ssl.Handler"}, () -> {
            runs.incrementAndGet();
            ran.countDown();
        });
        ClassLoader app = ClassLoader.getSystemClassLoader();
        transformer.transform(null, app, "com/example/Main", null, null, new byte[0]);
        transformer.transform(null, new ClassLoader(app) { }, "org/lib/Other", null, null, new byte[0]);
        assertEquals(1, ran.getCount(), "not the library, or not from the application's class path");
        transformer.transform(null, app, "org/lib/util/First", null, null, new byte[0]);
        transformer.transform(null, app, "org/lib/util/Second", null, null, new byte[0]);
        assertTrue(ran.await(10, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(1, runs.get());
    }

    @Test
    void enterAndExitSeeWhatTheyAskFor() throws Throwable {
        HookSet hooks = new HookSet(1, "test");
        HookSet.TypeHooks t = hooks.type(Sample.class.getName());
        t.method(0, "read", "([BII)I").grantsLookup().enter(self(), arg(0), arg(2)).exit(field("name"), returned(), arg(1));
        t.method(1, "total", 3).enter(arg(0), arg(2)).exit(returned());
        t.method(2, "recover", 1).enter(arg(0)).exit(returned());
        t.method(3, "fail", 1).exitOnThrow(self(), arg(0));
        t.method(4, "pick", 2).enter(arg(0), arg(1)).exit(returned());
        t.constructors(5).exitOnReturn(self(), field("counter"));
        List<String> problems = new ArrayList<>();
        Class<?> c = weave(hooks, problems);
        assertTrue(problems.isEmpty(), problems.toString());

        Object s = c.getConstructor(String.class, int.class).newInstance("a", 7);
        // the delegating constructor returns too: both see an initialised object
        assertEquals(List.of("exit 69 null [sample:a, null, null] 0 0 -", "exit 69 null [sample:a, null, null] 7 0 -"),
                recording.calls);
        recording.calls.clear();

        assertEquals(3, call(s, c, "read", new byte[5], 1, 3));
        assertEquals(List.of("lookup 64 Sample", "enter 64 [sample:a, bytes, null, null] 3 0",
                "exit 64 token [a, null, null] 3 1 -"), recording.calls);
        recording.calls.clear();

        assertEquals(8L, call(s, c, "total", 5L, 1, 2.5));
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> call(s, c, "total", -9L, 1, 2.0));
        assertEquals("negative -6", negative.getMessage());
        assertEquals(List.of("enter 65 [null, null, null, null] 5 2", "exit 65 token [null, null, null] 8 0 -",
                "enter 65 [null, null, null, null] -9 2", "exit 65 token [null, null, null] 0 0 negative -6"),
                recording.calls);
        recording.calls.clear();

        // an exception the method handles itself is not an exit
        assertEquals("recovered", call(s, c, "recover", (Object) null));
        assertEquals("X", call(s, c, "recover", "x"));
        assertEquals(List.of("enter 66 [null, null, null, null] 0 0", "exit 66 token [recovered, null, null] 0 0 -",
                "enter 66 [x, null, null, null] 0 0", "exit 66 token [X, null, null] 0 0 -"), recording.calls);
        recording.calls.clear();

        IOException failed = assertThrows(IOException.class, () -> call(s, c, "fail", "boom"));
        assertEquals("boom", failed.getMessage());
        assertEquals(List.of("exit 67 null [sample:a, boom, null] 0 0 boom"), recording.calls);
        assertTrue(Thread.holdsLock(s) == false);
        recording.calls.clear();

        assertEquals("y", call(null, c, "pick", new Object[] {"x", "y"}, 1));
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> call(null, c, "pick", new Object[0], 3));
        assertEquals(4, recording.calls.size());
        assertEquals("exit 68 token [y, null, null] 0 0 -", recording.calls.get(1));
        assertTrue(recording.calls.get(3).startsWith("exit 68 token [null, null, null] 0 0 Index 3"), recording.calls.get(3));
    }

    @Test
    void anExitForANegativeReturnIsCalledOnlyForOneOrAThrow() throws Throwable {
        HookSet hooks = new HookSet(0, "test");
        HookSet.TypeHooks t = hooks.type(Sample.class.getName());
        t.method(0, "echo", 1).exitOnThrowOrNegative(self(), returned());
        // the filter reads the exit's first number: one that is not the returned value cannot be woven
        t.method(1, "total", 3).exitOnThrowOrNegative(arg(0), returned());
        assertThrows(IllegalArgumentException.class, () -> t.method(2, "read", 3).exitOnThrowOrNegative(self()));
        List<String> problems = new ArrayList<>();
        Class<?> c = weave(hooks, problems);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("first number is not the returned value"), problems.toString());

        Object s = c.getConstructor(String.class).newInstance("n");
        assertEquals(5, call(s, c, "echo", 5));
        assertEquals(0, call(s, c, "echo", 0));
        assertEquals(List.of(), recording.calls);
        assertEquals(-1, call(s, c, "echo", -1));
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> call(s, c, "echo", 99));
        assertEquals("closed", closed.getMessage());
        assertEquals(List.of("exit 0 null [sample:n, null, null] -1 0 -", "exit 0 null [sample:n, null, null] 0 0 closed"),
                recording.calls);
        assertEquals(3L, call(s, c, "total", 1L, 1, 1.0));
    }

    @Test
    void aHookThatCannotApplyLeavesItsMethodAlone() throws Throwable {
        HookSet hooks = new HookSet(0, "test");
        HookSet.TypeHooks t = hooks.type(Sample.class.getName());
        t.method(0, "read", 3).enter(field("noSuchField"));
        t.method(1, "pick", 2).enter(self());
        t.method(2, "total", 3).exit(returned());
        List<String> problems = new ArrayList<>();
        Class<?> c = weave(hooks, problems);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("no field noSuchField"), problems.toString());
        assertTrue(problems.get(1).contains("no 'this' in a static method"), problems.toString());
        Object s = c.getConstructor(String.class).newInstance("b");
        assertEquals(1, call(s, c, "read", new byte[1], 0, 1));
        assertEquals(3L, call(s, c, "total", 1L, 1, 1.0));
        assertEquals(List.of("exit 2 null [null, null, null] 3 0 -"), recording.calls);
    }

    @Test
    void aHookRemembersInAFieldTheClassTakesOnlyWhenTheJvmDefinesIt() throws Throwable {
        HookSet hooks = new HookSet(0, "test");
        hooks.type(Sample.class.getName()).method(0, "read", 3).enter(self(), Value.remembered()).exit(Value.remembered());
        // defined with the agent present: a private transient synthetic Object field, null until set
        Class<?> c = weave(hooks, new ArrayList<>(), true);
        java.lang.reflect.Field f = c.getDeclaredField(Value.REMEMBERED_FIELD);
        assertEquals(java.lang.reflect.Modifier.PRIVATE | java.lang.reflect.Modifier.TRANSIENT,
                f.getModifiers() & ~0x1000, java.lang.reflect.Modifier.toString(f.getModifiers()));
        assertTrue(f.isSynthetic() && f.getType() == Object.class, f.toString());
        assertEquals(Sample.class.getDeclaredFields().length + 1, c.getDeclaredFields().length);
        Object s = c.getConstructor(String.class).newInstance("r");
        assertEquals(1, call(s, c, "read", new byte[1], 0, 1));
        RememberedField.store(s, "kept");     // through a private lookup, as a stack stores it
        assertEquals(2, call(s, c, "read", new byte[2], 0, 2));
        assertEquals(List.of("enter 0 [sample:r, null, null, null] 0 0", "exit 0 token [null, null, null] 0 0 -",
                "enter 0 [sample:r, kept, null, null] 0 0", "exit 0 token [kept, null, null] 0 0 -"), recording.calls);

        // a class defined before (an attach): no field, and the hook is passed null
        recording.calls.clear();
        Class<?> retransformed = weave(hooks, new ArrayList<>(), false);
        assertEquals(Sample.class.getDeclaredFields().length, retransformed.getDeclaredFields().length);
        Object t = retransformed.getConstructor(String.class).newInstance("t");
        RememberedField.store(t, "nowhere");   // no field: nothing stored, nothing thrown
        assertEquals(1, call(t, retransformed, "read", new byte[1], 0, 1));
        assertEquals(List.of("enter 0 [sample:t, null, null, null] 0 0", "exit 0 token [null, null, null] 0 0 -"),
                recording.calls);

        // retransformed later (another agent, an attach), a class keeps the fields it was defined with
        HookTransformer transformer = new HookTransformer(List.of(hooks));
        String name = Sample.class.getName().replace('.', '/');
        byte[] original = sampleClassFile();
        ClassLoader app = ClassLoader.getSystemClassLoader();
        ClassLoader other = new ClassLoader(app) { };
        byte[] defined = transformer.transform(null, app, name, null, null, original.clone());
        assertEquals("Ljava/lang/Object;", new ClassFile(defined).fieldType(Value.REMEMBERED_FIELD));
        byte[] again = transformer.transform(null, app, name, c, null, original.clone());
        assertEquals("Ljava/lang/Object;", new ClassFile(again).fieldType(Value.REMEMBERED_FIELD));
        // the same name in a loader where the transformer did not weave it when it was defined
        byte[] without = transformer.transform(null, other, name, retransformed, null, original.clone());
        assertEquals(null, new ClassFile(without).fieldType(Value.REMEMBERED_FIELD));
    }

    @Test
    void withoutASinkTheWovenClassRunsAsBefore() throws Throwable {
        Hooks.install(null);
        HookSet hooks = new HookSet(0, "test");
        hooks.type(Sample.class.getName()).method(0, "read", 3).grantsLookup().enter(self()).exit(returned());
        Class<?> c = weave(hooks, new ArrayList<>());
        Object s = c.getConstructor(String.class).newInstance("c");
        assertEquals(2, call(s, c, "read", new byte[2], 0, 9));
        assertTrue(recording.calls.isEmpty());
    }

    @Test
    void aStackThatWantsNoMoreLookupsIsNotAskedAgain() throws Throwable {
        // a stack number of its own: the hooks remember a no per hook number, for the JVM's life
        java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
        Recording sink = new Recording() {
            @Override
            public boolean wantsLookup(int hook) {
                return asked.incrementAndGet() == 1;
            }
        };
        Hooks.install(sink);
        HookSet hooks = new HookSet(3, "test");
        hooks.type(Sample.class.getName()).method(0, "read", 3).grantsLookup().enter(self()).exit(returned());
        Class<?> c = weave(hooks, new ArrayList<>());
        Object s = c.getConstructor(String.class).newInstance("e");
        for (int i = 0; i < 4; i++) {
            assertEquals(2, call(s, c, "read", new byte[2], 0, 9));
        }
        assertEquals(2, asked.get(), "asked until it said no, then never");
        assertEquals(1, sink.calls.stream().filter(l -> l.startsWith("lookup ")).count(), sink.calls.toString());
        assertEquals(4, sink.calls.stream().filter(l -> l.startsWith("enter ")).count(), sink.calls.toString());
    }

    @Test
    void aThrowingSinkIsSwitchedOffAndTheMethodRunsOn() throws Throwable {
        Hooks.install(new Recording() {
            @Override
            public synchronized Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
                throw new IllegalStateException("broken");
            }
        });
        HookSet hooks = new HookSet(0, "test");
        hooks.type(Sample.class.getName()).method(7, "recover", 1).enter(arg(0)).exit(returned());
        Class<?> c = weave(hooks, new ArrayList<>());
        Object s = c.getConstructor(String.class).newInstance("d");
        assertEquals("Q", call(s, c, "recover", "q"));
        assertEquals("R", call(s, c, "recover", "r"));
    }

    /** Names beyond ASCII, as javac writes them (modified UTF-8). */
    @SuppressWarnings("unused")
    static class Named {
        int größe;
        String \uD835\uDD18nicode;

        void café() {
        }

        void \uD835\uDD18nicodé() {
        }
    }

    @Test
    void namesBeyondAsciiAreReadAsTheJvmReadsThem() throws IOException {
        byte[] bytes;
        try (InputStream in = WeaverTest.class.getClassLoader().getResourceAsStream(
                Named.class.getName().replace('.', '/') + ".class")) {
            bytes = in.readAllBytes();
        }
        ClassFile cf = new ClassFile(bytes);
        List<String> names = new ArrayList<>();
        cf.methods.forEach(m -> names.add(m.name));
        assertTrue(names.contains("café"), names.toString());
        assertTrue(names.contains("\uD835\uDD18nicodé"), names.toString());
        assertEquals("I", cf.fieldType("größe"));
        assertEquals("Ljava/lang/String;", cf.fieldType("\uD835\uDD18nicode"));
        assertEquals(null, cf.fieldType("missing"));
        assertEquals("java/lang/Object", ClassFile.superName(bytes));
    }

    @Test
    void theTransformerFindsRelocatedNettyByName() throws IOException {
        HookSet hooks = new HookSet(0, "test");
        hooks.netty("io.netty.handler.ssl.SslHandler").method(0, "read", "([BII)I").enter(self()).exit(returned());
        HookTransformer transformer = new HookTransformer(List.of(hooks));
        byte[] bytes = sampleClassFile();
        ClassLoader app = ClassLoader.getSystemClassLoader();
        for (String name : List.of("io/netty/handler/ssl/SslHandler", "io/grpc/netty/shaded/io/netty/handler/ssl/SslHandler")) {
            assertTrue(transformer.transform(null, app, name, null, null, bytes) != null, name);
        }
        for (String name : List.of("com/example/handler/ssl/SslHandler", "io/netty/handler/ssl/MySslHandler", "SslHandler")) {
            assertEquals(null, transformer.transform(null, app, name, null, null, bytes), name);
        }
    }

    @Test
    void namesMatchRelocatedNettyOnly() {
        HookSet hooks = new HookSet(0, "test");
        HookSet.TypeHooks t = hooks.netty("io.netty.handler.ssl.SslHandler");
        assertTrue(t.matchesName("io/netty/handler/ssl/SslHandler"));
        assertTrue(t.matchesName("io/grpc/netty/shaded/io/netty/handler/ssl/SslHandler"));
        assertTrue(t.matchesName("com/datastax/oss/driver/shaded/netty/handler/ssl/SslHandler"));
        assertTrue(!t.matchesName("com/example/handler/ssl/SslHandler"));
        assertTrue(!t.matchesName("io/netty/handler/ssl/SslHandlerCoalescingBufferQueue"));
        assertTrue(!t.matchesName("io/netty/handler/ssl/MySslHandler"));
    }
}
