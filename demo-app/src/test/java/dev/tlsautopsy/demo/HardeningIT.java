package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Operators attach this to production only if it never hurts the application and never lies: exact
 * counts under concurrency, fuzzed TLS streams, and connections abandoned by the thousand, on JDK 17
 * and 25 in forked JVMs with the agent.
 */
class HardeningIT {

    static final String[] OUTCOMES = ScenarioMatrixIT.OUTCOMES;

    static Stream<String> jdks() {
        return Forked.jdks().stream();
    }

    static JsonObject json(Path file) throws Exception {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    /** The agent's own complaints on stderr, apart from its start-up line. */
    static List<String> warnings(Forked.Run run) {
        List<String> out = new ArrayList<>();
        for (String l : run.agentLines()) {
            if (!l.startsWith("tls-autopsy " )) {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * The full sizes run on the first JDK (17); the others run a share of them, so that the whole suite
     * stays within its 15 minutes on two cores.
     */
    static boolean full(String jdk) {
        return jdk.equals(Forked.jdks().get(0));
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void countsAreExactWith32ThreadsAnd20000Connections(String jdk, @TempDir Path dir) throws Exception {
        int connections = full(jdk) ? 20_000 : 5_000;
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=summary.json,interval=1")),
                "dev.tlsautopsy.demo.hardening.LoadMain", List.of("--threads", "32", "--connections", Integer.toString(connections),
                        "--seed", "7", "--out", "load.json"), 900);
        assertEquals(0, run.exit(), run.stderr());
        assertEquals(List.of(), warnings(run));
        JsonObject load = json(dir.resolve("load.json"));
        JsonObject summary = json(dir.resolve("summary.json"));
        System.out.println(Forked.shortName(jdk) + " " + run.stdout().trim());
        assertEquals(0, load.getAsJsonArray("failures").size(), load.get("failures").toString());
        int expected = load.get("expectedRecords").getAsInt();
        assertTrue(expected >= connections, "records expected: " + expected);
        assertEquals(expected, load.get("publishedRecords").getAsInt(), "records published through the MBean");
        assertEquals(0, load.get("duplicateIds").getAsInt(), "connections with two records");
        assertEquals(expected, summary.get("connections").getAsInt(), "summary connections");
        assertEquals(0, summary.get("open").getAsInt(), "still open at exit");
        assertTrue(summary.get("final").getAsBoolean());
        JsonObject truth = load.getAsJsonObject("truth");
        for (String o : OUTCOMES) {
            int counted = summary.getAsJsonObject("outcomes").get(o).getAsInt()
                    + summary.getAsJsonObject("handshakeOutcomes").get(o).getAsInt();
            int should = truth.has(o) ? truth.get(o).getAsInt() : 0;
            assertEquals(should, counted, "summary count of " + o + " (ground truth " + truth + ")");
        }
    }

    /** Digits and hex runs differ from run to run with TLS's randomness; the trace's shape does not. */
    static String normalised(JsonObject seedResult) {
        return (seedResult.get("clientTrace").toString() + " / " + seedResult.get("serverTrace").toString())
                .replaceAll("[0-9a-fA-F]{16,}", "#").replaceAll("[0-9]+", "#");
    }

    static Map<Long, JsonObject> bySeed(JsonObject fuzz) {
        Map<Long, JsonObject> m = new LinkedHashMap<>();
        for (JsonElement e : fuzz.getAsJsonArray("results")) {
            m.put(e.getAsJsonObject().get("seed").getAsLong(), e.getAsJsonObject());
        }
        return m;
    }

    private static Forked.Run fuzz(String jdk, Path dir, boolean agent, List<String> seedArgs) throws Exception {
        List<String> args = new ArrayList<>(seedArgs);
        args.addAll(List.of("--out", "fuzz.json"));
        return Forked.java(jdk, dir, agent ? List.of(Forked.agentArg("summary=summary.json,interval=0")) : List.of(),
                "dev.tlsautopsy.demo.hardening.FuzzMain", args, 600);
    }

    /** The run without the agent, alongside the one with it. */
    private static CompletableFuture<Forked.Run> fuzzAside(String jdk, Path dir, List<String> seedArgs) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return fuzz(jdk, dir, false, seedArgs);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void fuzzedStreamsGetOneSensibleRecordAndChangeNothing(String jdk, @TempDir Path dir) throws Exception {
        int seeds = full(jdk) ? 1000 : 400;
        List<String> all = List.of("--from", "0", "--to", Integer.toString(seeds));
        CompletableFuture<Forked.Run> plainRun = fuzzAside(jdk, dir.resolve("without"), all);
        Forked.Run withRun = fuzz(jdk, dir.resolve("with"), true, all);
        Forked.Run withoutRun = plainRun.get();
        assertEquals(0, withRun.exit(), withRun.stderr());
        assertEquals(0, withoutRun.exit(), withoutRun.stderr());
        assertEquals(List.of(), warnings(withRun), "the agent complained");
        JsonObject with = json(dir.resolve("with").resolve("fuzz.json"));
        JsonObject summary = json(dir.resolve("with").resolve("summary.json"));
        assertEquals(2 * seeds, with.get("records").getAsInt(), "records");
        assertEquals(0, with.get("recordsOfNoSeed").getAsInt(), "records no connection claims");
        assertEquals(2 * seeds, summary.get("connections").getAsInt());
        assertEquals(0, summary.get("open").getAsInt());

        List<String> failures = new ArrayList<>();
        Map<Long, JsonObject> withBySeed = bySeed(with);
        Map<Long, JsonObject> withoutBySeed = bySeed(json(dir.resolve("without").resolve("fuzz.json")));
        List<Long> differing = new ArrayList<>();
        for (Map.Entry<Long, JsonObject> e : withBySeed.entrySet()) {
            JsonObject r = e.getValue();
            String replay = "seed " + e.getKey() + " (" + r.get("plan").getAsString() + "; replay: FuzzMain --seeds "
                    + e.getKey() + ")";
            if (!r.get("error").getAsString().isEmpty()) {
                failures.add(replay + ": " + r.get("error").getAsString());
            }
            for (String side : new String[] {"clientRecords", "serverRecords"}) {
                JsonArray recs = r.getAsJsonArray(side);
                if (recs.size() != 1) {
                    failures.add(replay + ": " + recs.size() + " " + side + " " + recs);
                } else if ("ABANDONED".equals(recs.get(0).getAsJsonObject().get("outcome").getAsString())) {
                    failures.add(replay + ": " + side + " ABANDONED though the application closed it");
                }
            }
            if (!normalised(r).equals(normalised(withoutBySeed.get(e.getKey())))) {
                differing.add(e.getKey());
            }
        }
        // two runs of one seed can differ without any agent (timers and closes race, TLS is random):
        // rerun the differing seeds both ways and require that some run with the agent looks like
        // some run without it
        if (!differing.isEmpty()) {
            Map<Long, Set<String>> withShapes = new HashMap<>();
            Map<Long, Set<String>> withoutShapes = new HashMap<>();
            for (long s : differing) {
                withShapes.computeIfAbsent(s, k -> new HashSet<>()).add(normalised(withBySeed.get(s)));
                withoutShapes.computeIfAbsent(s, k -> new HashSet<>()).add(normalised(withoutBySeed.get(s)));
            }
            // racing seeds need several runs to show each of their endings: rerun the unmatched ones, up to 8 times
            List<Long> unmatched = new ArrayList<>(differing);
            for (int round = 0; round < 8 && !unmatched.isEmpty(); round++) {
                String list = unmatched.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).get();
                List<String> again = List.of("--seeds", list, "--parallel", "32");
                CompletableFuture<Forked.Run> plainAgain = fuzzAside(jdk, dir.resolve("without-again-" + round), again);
                Forked.Run w = fuzz(jdk, dir.resolve("with-again-" + round), true, again);
                Forked.Run p = plainAgain.get();
                assertEquals(0, w.exit(), w.stderr());
                assertEquals(0, p.exit(), p.stderr());
                bySeed(json(w.dir().resolve("fuzz.json"))).forEach((s, r) -> withShapes.get(s).add(normalised(r)));
                bySeed(json(p.dir().resolve("fuzz.json"))).forEach((s, r) -> withoutShapes.get(s).add(normalised(r)));
                unmatched.removeIf(s -> {
                    Set<String> common = new HashSet<>(withShapes.get(s));
                    common.retainAll(withoutShapes.get(s));
                    return !common.isEmpty();
                });
            }
            for (long s : unmatched) {
                failures.add("seed " + s + " (replay: FuzzMain --seeds " + s + "): the application saw "
                        + withShapes.get(s) + " with the agent, " + withoutShapes.get(s) + " without");
            }
        }
        System.out.println(Forked.shortName(jdk) + ": " + seeds + " fuzzed connections, " + differing.size()
                + " reran for racing traces, " + failures.size() + " failures");
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void connectionsAbandonedByTheThousandAreReportedAndForgotten(String jdk, @TempDir Path dir) throws Exception {
        int n = 20_000;
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=summary.json,interval=0")),
                "dev.tlsautopsy.demo.bench.BenchChild", List.of("abandoned", Integer.toString(n)), 300);
        assertEquals(0, run.exit(), run.stderr());
        assertTrue(run.stdout().contains("result abandoned-records " + n), run.stdout());
        JsonObject summary = json(dir.resolve("summary.json"));
        assertEquals(n, summary.get("connections").getAsInt());
        assertEquals(n, summary.getAsJsonObject("handshakeOutcomes").get("ABANDONED").getAsInt());
        assertEquals(0, summary.get("open").getAsInt(), "the agent still holds abandoned connections");
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void atItsTrackingLimitTheAgentWarnsOnceAndCountsWhatItMissed(String jdk, @TempDir Path dir) throws Exception {
        // the limit bounds connections tracked at once: n begun and kept, none ending before the JVM
        int n = 3000;
        Forked.Run run = atLimitOf100(jdk, dir, "begun", n);
        assertTrue(run.stdout().contains("result begun " + n), "the application ran: " + run.stdout());
        List<String> warnings = warnings(run);
        assertEquals(2, warnings.size(), "one warning when the limit is hit, one count at exit: " + warnings);
        assertTrue(warnings.get(0).startsWith("tls-autopsy: 100 connections tracked, the limit"), warnings.get(0));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("tls-autopsy: (\\d+) connection\\(s\\) were not recorded")
                .matcher(warnings.get(1));
        assertTrue(m.find(), warnings.get(1));
        JsonObject summary = json(dir.resolve("summary.json"));
        assertEquals(0, summary.get("connections").getAsInt(), "none ended");
        assertEquals(100, summary.get("open").getAsInt(), "tracked up to the limit");
        assertEquals(n, summary.get("open").getAsInt() + Integer.parseInt(m.group(1)),
                "tracked + not recorded = every connection");
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void connectionsThatEndedDoNotCountTowardsTheTrackingLimit(String jdk, @TempDir Path dir) throws Exception {
        int n = 3000;
        Forked.Run run = atLimitOf100(jdk, dir, "finished", n);
        assertTrue(run.stdout().contains("result finished-rate"), "the application ran: " + run.stdout());
        assertEquals(List.of(), warnings(run), "one at a time, never 100 at once");
        JsonObject summary = json(dir.resolve("summary.json"));
        assertEquals(n, summary.get("connections").getAsInt(), "every connection recorded");
        assertEquals(n, summary.getAsJsonObject("outcomes").get("CLEAN").getAsInt()
                + summary.getAsJsonObject("handshakeOutcomes").get("CLEAN").getAsInt());
        assertEquals(0, summary.get("open").getAsInt());
    }

    /** A bench workload of {@code n} connections under the agent, tracking at most 100 at once. */
    private static Forked.Run atLimitOf100(String jdk, Path dir, String workload, int n) throws Exception {
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=summary.json,interval=0"),
                "-Dtlsautopsy.maxTracked=100"), "dev.tlsautopsy.demo.bench.BenchChild", List.of(workload, Integer.toString(n)), 300);
        assertEquals(0, run.exit(), run.stderr());
        return run;
    }
}
