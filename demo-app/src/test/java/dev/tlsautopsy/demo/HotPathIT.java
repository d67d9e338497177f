package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tlsautopsy.demo.scenario.Env;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A connection's reads, writes, wraps, unwraps and Netty events allocate nothing in the agent while the
 * connection's state does not change (SPEC section 9's hot paths). One connection per API echoes 1 KiB
 * {@value #ECHOES} times after as many of warm-up, in a JVM without the agent and one with it; the bytes
 * the application's threads allocated per echo must be the same.
 *
 * <p>Both JVMs run without escape analysis, so that what the JIT would keep off the heap in one and not
 * in the other does not count: the same run without the agent then allocates the same bytes per echo to
 * within a few (Netty's pooled buffers). An allocation of the agent's, once per echo or more, adds at
 * least {@value #OBJECT_BYTES}. Each JVM reports the least of four windows of the measured echoes: JDK 25's
 * socket now and then allocates up to 50 bytes an echo more for a while, without the agent too, and an
 * allocation on every echo shows in every window.
 */
class HotPathIT {

    static final int ECHOES = 20_000;
    /** The smallest object the JVM allocates (header and one field, aligned). */
    static final int OBJECT_BYTES = 16;
    private static final Pattern RESULT = Pattern.compile("result echo-(\\w+) ([0-9.]+) bytes/echo");

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String jdk : Forked.jdks()) {
            for (Env.Api api : Env.Api.covered()) {
                out.add(Arguments.of(Forked.shortName(jdk), jdk, api));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("cases")
    void theDataPathAllocatesNothing(String name, String jdk, Env.Api api, @TempDir Path dir) throws Exception {
        List<String> args = List.of("echo", api.name(), Integer.toString(ECHOES));
        Forked.Run without = Forked.java(jdk, dir.resolve("without"), List.of("-XX:-DoEscapeAnalysis"),
                "dev.tlsautopsy.demo.bench.BenchChild", args, 120);
        Forked.Run with = Forked.java(jdk, dir.resolve("with"),
                List.of("-XX:-DoEscapeAnalysis", Forked.agentArg("log=all,interval=0")),
                "dev.tlsautopsy.demo.bench.BenchChild", args, 120);
        assertEquals(0, without.exit(), without.stderr());
        assertEquals(0, with.exit(), with.stderr());
        double base = perEcho(without, api);
        double agent = perEcho(with, api);
        assertTrue(agent - base < OBJECT_BYTES, api + " on " + name + ": " + base + " bytes per echo without the agent, "
                + agent + " with it");

        // the hooks ran on every echo measured: both ends recorded, every byte counted, clean
        List<String> records = with.agentLines().stream().filter(l -> l.startsWith("tls-autopsy: connectionId=")).toList();
        assertEquals(2, records.size(), with.stderr());
        String bytes = Long.toString(2L * ECHOES * 1024);
        for (String r : records) {
            assertTrue(r.contains(" outcome=CLEAN ") && r.contains(" api=" + api.recorded() + " ")
                    && r.contains(" bytesIn=" + bytes + " ") && r.contains(" bytesOut=" + bytes + " "), r);
        }
    }

    private static double perEcho(Forked.Run run, Env.Api api) {
        Matcher m = RESULT.matcher(run.stdout());
        assertTrue(m.find() && m.group(1).equals(api.name()), run.stdout());
        return Double.parseDouble(m.group(2));
    }
}
