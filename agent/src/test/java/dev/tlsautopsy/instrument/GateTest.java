package dev.tlsautopsy.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The gate premain registers lets a class pass unwoven before the hooks are declared only if no hook could
 * weave it: every class a stack declares, under its own name and relocated, must wait for the hooks.
 */
class GateTest {

    @Test
    void everyHookedClassWaitsForTheHooks() {
        List<String> checked = new ArrayList<>();
        Stack[] stacks = java.util.Arrays.copyOf(Installer.stacks(), Installer.stacks().length + 1);
        stacks[stacks.length - 1] = new PlatformMBeanServerHook();
        for (int i = 0; i < stacks.length; i++) {
            HookSet set = new HookSet(i, stacks[i].group());
            stacks[i].declare(set);
            for (HookSet.TypeHooks t : set.types) {
                switch (t.match) {
                    case EXACT:
                        assertTrue(Gate.mayWeave(t.name), t.name + " passes the gate unwoven");
                        checked.add(t.name);
                        break;
                    case RELOCATED:
                        for (String prefix : new String[] {"io/netty/", "io/grpc/netty/shaded/io/netty/",
                            "com/datastax/oss/driver/shaded/netty/"}) {
                            assertTrue(Gate.mayWeave(prefix + t.name), prefix + t.name + " passes the gate unwoven");
                        }
                        checked.add(t.name);
                        break;
                    default:
                        // SSLEngine subclasses: every candidate the engine stack would look at
                        for (String engine : new String[] {"io/netty/handler/ssl/ReferenceCountedOpenSslEngine",
                            "io/netty/handler/ssl/JdkSslEngine", "org/bouncycastle/jsse/provider/ProvSSLEngine",
                            "org/conscrypt/ConscryptEngine", "org/wildfly/openssl/OpenSSLEngine", "com/example/MyEngine"}) {
                            assertTrue(t.candidate.test(engine), engine);
                            assertTrue(Gate.mayWeave(engine), engine + " passes the gate unwoven");
                        }
                        checked.add("SSLEngine subclasses");
                }
            }
        }
        assertTrue(checked.size() >= 25, "declared types: " + checked);
    }

    @Test
    void everyOtherClassPassesAtOnce() {
        for (String name : new String[] {"java/lang/String", "javax/net/ssl/SSLEngine", "javax/script/ScriptEngine",
            "sun/nio/ch/FileChannelImpl", "com/example/Main", "io/netty/util/Recycler", "dev/tlsautopsy/stack/engine/EngineStack",
            "dev/tlsautopsy/stack/netty/NettyStack"}) {
            assertFalse(Gate.mayWeave(name), name + " waits for the hooks");
        }
    }

    @Test
    void aClassThatMayBeWovenWaitsUntilTheGateOpens() throws Exception {
        Gate gate = new Gate(new Thread(() -> { }));
        byte[] woven = {1, 2, 3};
        CountDownLatch entered = new CountDownLatch(1);
        AtomicReference<byte[]> got = new AtomicReference<>();
        Thread loader = new Thread(() -> {
            entered.countDown();
            got.set(gate.transform(null, null, "io/netty/handler/ssl/SslHandler", null, null, new byte[0]));
        });
        loader.start();
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        assertNull(gate.transform(null, null, "com/example/Main", null, null, new byte[0]), "an unrelated class waits");
        gate.open(new java.lang.instrument.ClassFileTransformer() {
            @Override
            public byte[] transform(Module module, ClassLoader l, String name, Class<?> redefined,
                                    java.security.ProtectionDomain domain, byte[] bytes) {
                return name.endsWith("SslHandler") ? woven : null;
            }
        });
        loader.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(loader.isAlive());
        assertEquals(woven, got.get());
    }

    @Test
    void aFailedStartLetsEveryClassPass() {
        Gate gate = new Gate(new Thread(() -> { }));
        gate.open(null);
        assertNull(gate.transform(null, null, "io/netty/handler/ssl/SslHandler", null, null, new byte[0]));
    }
}
