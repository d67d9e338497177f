package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The benchmark's workloads start and finish with the agent (seconds, not a measurement: the numbers
 * come from {@code Bench}, see docs/performance.md).
 */
class BenchSmokeIT {

    static java.util.stream.Stream<String> jdks() {
        return Forked.jdks().stream();
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void workloadsRunWithTheAgent(String jdk, @TempDir Path dir) throws Exception {
        String[][] workloads = {{"bulk", "4", "1"}, {"finished", "2000"}, {"open", "20"}, {"churn", "SSLEngine", "20", "1"}};
        for (String[] w : workloads) {
            Forked.Run run = Forked.java(jdk, dir.resolve(w[0]), List.of(Forked.agentArg("summary=summary.json,interval=0")),
                    "dev.tlsautopsy.demo.bench.BenchChild", List.of(w), 120);
            assertEquals(0, run.exit(), run.stderr());
            assertTrue(run.stdout().contains("result "), w[0] + ": " + run.stdout());
        }
        // every finished connection of the last workload was recorded: churn's warm-up 50 + 20, both sides
        String summary = java.nio.file.Files.readString(dir.resolve("churn").resolve("summary.json"));
        com.google.gson.JsonObject s = com.google.gson.JsonParser.parseString(summary).getAsJsonObject();
        assertEquals(140, s.get("connections").getAsInt(), summary);
        assertEquals(140, s.getAsJsonObject("outcomes").get("CLEAN").getAsInt(), summary);
        assertEquals(0, s.get("open").getAsInt(), summary);
    }

    /**
     * Churn in paired turns: two live JVMs, one warming up after the other, each turn cut into slices the
     * two run in alternation; one line with both sides' CPU per connection, the ratio, its interval and
     * the target, and (with {@code -Dbench.turns=true}) each turn's figures.
     */
    @ParameterizedTest
    @MethodSource("jdks")
    void churnIsComparedInSlicedTurns(String jdk, @TempDir Path dir) throws Exception {
        Forked.Run run = Forked.java(jdk, dir, List.of("-Dbench.turns=true"), "dev.tlsautopsy.demo.bench.Bench",
                List.of("--quick", "--only", "churn SSLEngine", "--agent", Forked.AGENT.toString(), "--jdk", jdk), 300);
        assertEquals(0, run.exit(), run.stderr());
        String line = run.stdout().lines().filter(l -> l.startsWith("churn SSLEngine")).findFirst().orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "churn SSLEngine \\(CPU us/connection\\) +(\\d+\\.\\d) +(\\d+\\.\\d) +(\\d\\.\\d{3})  (\\d\\.\\d{3})\\.\\.(\\d\\.\\d{3}) +>= 0\\.990 +(met|MISSED)")
                .matcher(line);
        assertTrue(m.matches(), run.stdout());
        double ratio = Double.parseDouble(m.group(3));
        assertTrue(Double.parseDouble(m.group(4)) <= ratio && ratio <= Double.parseDouble(m.group(5)), line);
        assertEquals(ratio >= 0.99, "met".equals(m.group(6)), line);
        // --quick: one pair, two turns
        assertEquals(2, run.stderr().lines().filter(l -> l.matches("  pair 0 turn [01]: without \\d+ with \\d+ ratio \\d\\.\\d{3}")).count(),
                run.stderr());
        assertTrue(!run.stderr().contains("pair 1"), run.stderr());
    }

    /**
     * A start-up figure, followed by the floors an agent that does nothing sets, without and with a
     * transformer, measured in the same rounds (one start each way), and the agent's cost beyond the first.
     */
    @org.junit.jupiter.api.Test
    void startUpFiguresComeWithTheirFloor(@TempDir Path dir) throws Exception {
        String jdk = Forked.jdks().get(0);
        Forked.Run run = Forked.java(jdk, dir, List.of(), "dev.tlsautopsy.demo.bench.Bench",
                List.of("--only", "first handshake", "--starts", "1", "--floor", "--agent", Forked.AGENT.toString(), "--jdk", jdk), 300);
        assertEquals(0, run.exit(), run.stderr());
        List<String> lines = run.stdout().lines().toList();
        assertTrue(!run.stdout().contains("first HTTPS response"), run.stdout());
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("first handshake, TLS at once")) {
                at = i;
            }
        }
        assertTrue(at >= 0 && lines.get(at).matches(".*<= 100 +(met|MISSED)$"), run.stdout());
        // the CPU line, then the floor's own figure (no target of its own) and its CPU line
        assertTrue(lines.get(at + 2).startsWith("  floor: -javaagent with an empty premain"), run.stdout());
        assertTrue(lines.get(at + 2).matches(".* [+-]\\d+ +[+-]\\d+\\.\\.[+-]\\d+$"), run.stdout());
        assertTrue(lines.get(at + 3).startsWith("  CPU time of that JVM until then"), run.stdout());
        // then the same agent with a transformer that changes nothing
        assertTrue(lines.get(at + 4).startsWith("  floor: and a transformer that changes nothing"), run.stdout());
        assertTrue(lines.get(at + 4).matches(".* [+-]\\d+ +[+-]\\d+\\.\\.[+-]\\d+$"), run.stdout());
        assertTrue(lines.get(at + 5).startsWith("  CPU time of that JVM until then"), run.stdout());
        // and what the agent costs beyond the empty premain, from the same rounds
        assertTrue(lines.get(at + 6).startsWith("  the agent beyond the empty premain"), run.stdout());
        assertTrue(lines.get(at + 6).matches(".* [+-]\\d+ +[+-]\\d+\\.\\.[+-]\\d+$"), run.stdout());
        assertTrue(lines.get(at + 7).startsWith("  CPU time of that JVM until then"), run.stdout());
    }
}
