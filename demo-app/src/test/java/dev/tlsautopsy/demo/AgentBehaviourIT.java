package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The agent's promises to the host JVM, each in a forked JVM on JDK 17 and 25. */
class AgentBehaviourIT {

    static final String MAIN = "dev.tlsautopsy.demo.scenario.ScenarioMain";

    static Stream<String> jdks() {
        return Forked.jdks().stream();
    }

    private static List<String> scenarioArgs(String... scenarios) {
        List<String> a = new ArrayList<>(List.of("--api", "SSLSocket", "--out", "results.json"));
        a.addAll(List.of(scenarios));
        return a;
    }

    private static List<String> traces(JsonObject results) {
        List<String> out = new ArrayList<>();
        for (JsonElement e : results.getAsJsonArray("results")) {
            JsonObject r = e.getAsJsonObject();
            out.add(r.get("scenario") + " " + r.get("clientTrace") + " " + r.get("serverTrace"));
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void badOptionsAreOneLineAndTheApplicationRunsOn(String jdk, @TempDir Path dir) throws Exception {
        for (String[] bad : new String[][] {
            {"interval=soon", "bad option interval=soon: expected a whole number of seconds"},
            {"colour=blue", "unknown option 'colour'; accepted: summary, interval, log"},
            {"log=loud", "bad option log=loud: expected one of off, unclean, all"},
            {"instrument=jsse,quic", "bad option instrument=jsse,quic: expected hook groups"}}) {
            Path d = dir.resolve(bad[0].replaceAll("[^a-z]", "_"));
            Forked.Run run = Forked.java(jdk, d, List.of(Forked.agentArg(bad[0]), "-Dscenario.agentWaitMillis=1000"),
                    MAIN, scenarioArgs("clean-close-client"), 120);
            assertEquals(0, run.exit(), run.stderr());
            List<String> lines = run.agentLines();
            assertEquals(1, lines.size(), "exactly one line: " + lines);
            assertTrue(lines.get(0).contains(bad[1]) && lines.get(0).endsWith("the agent is not installed"), lines.get(0));
            // refused before the boot class path changes (HotSpot would say so: class data sharing lost)
            assertFalse(run.stderr().contains("bootstrap classpath has been appended"), run.stderr());
            assertFalse(run.results().get("agent").getAsBoolean());
            assertTrue(run.results().getAsJsonArray("results").get(0).getAsJsonObject()
                    .get("clientTrace").toString().contains("read: 4"), "the application ran normally");
            try (Stream<Path> files = Files.list(d)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("tls-autopsy-")), "no summary");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void aBrokenHookWarnsOnceAndChangesNothing(String jdk, @TempDir Path dir) throws Exception {
        List<String> args = scenarioArgs("clean-close-client", "truncated", "bad-record-mac", "reset-on-read");
        Forked.Run plain = Forked.java(jdk, dir.resolve("plain"), List.of(), MAIN, args, 120);
        for (String hook : new String[] {"jsse:SSLSocketImpl$AppInputStream.read", "jsse:Alert$AlertConsumer.consume",
            "jsse:SSLSocketImpl.handleEOF"}) {
            Forked.Run broken = Forked.java(jdk, dir.resolve(hook),
                    List.of(Forked.agentArg("interval=0"), "-Dtlsautopsy.debug.failHook=" + hook,
                            "-Dscenario.recordWaitMillis=500"), MAIN, args, 120);
            assertEquals(0, broken.exit(), broken.stderr());
            List<String> warnings = broken.agentLines().stream().filter(l -> l.contains("failed and is now disabled"))
                    .collect(Collectors.toList());
            assertEquals(1, warnings.size(), hook + ": " + broken.agentLines());
            assertTrue(warnings.get(0).startsWith("tls-autopsy: hook " + hook + " failed"), warnings.get(0));
            assertEquals(traces(plain.results()), traces(broken.results()), hook + ": the application saw the same");
        }
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void faultsInsideTheAgentWarnOnceAndLeaveTheApplicationAlone(String jdk, @TempDir Path dir) throws Exception {
        List<String> args = scenarioArgs("clean-close-client", "truncated", "bad-record-mac", "reset-on-read");
        Forked.Run plain = Forked.java(jdk, dir.resolve("plain"), List.of(), MAIN, args, 120);
        Path notADirectory = Files.writeString(dir.resolve("a-file"), "not a directory");

        // the summary and the recording cannot be written; the JFR and log outputs throw on every ending
        Forked.Run broken = Forked.java(jdk, dir.resolve("broken"), List.of(
                Forked.agentArg("summary=" + notADirectory.resolve("s.json") + ",interval=1,log=all,recording="
                        + notADirectory.resolve("r.jfr")), "-Dtlsautopsy.debug.failOutput=jfr"), MAIN, args, 120);
        assertEquals(0, broken.exit(), broken.stderr());
        assertEquals(traces(plain.results()), traces(broken.results()), "the application saw the same");
        List<String> warnings = broken.agentLines().stream().filter(l -> !l.startsWith("tls-autopsy 0")
                && !l.startsWith("tls-autopsy: connectionId=")).collect(Collectors.toList());
        assertEquals(3, warnings.size(), "one warning per fault: " + warnings);
        assertTrue(warnings.stream().anyMatch(l -> l.startsWith("tls-autopsy: cannot write summary " + notADirectory)), warnings.toString());
        assertTrue(warnings.stream().anyMatch(l -> l.startsWith("tls-autopsy: cannot start the JFR recording")), warnings.toString());
        assertTrue(warnings.stream().anyMatch(l -> l.startsWith("tls-autopsy: the JFR output failed")), warnings.toString());
        // the other outputs counted every ending exactly
        JsonObject results = broken.results();
        int records = results.getAsJsonArray("records").size();
        assertEquals(8, records);
        assertEquals(records, results.getAsJsonObject("mbean").get("Connections").getAsInt());
        assertEquals(records, broken.agentLines().stream().filter(l -> l.startsWith("tls-autopsy: connectionId=")).count());

        // the MBean's notifications throw: the summary still counts every ending
        Forked.Run noJmx = Forked.java(jdk, dir.resolve("nojmx"), List.of(Forked.agentArg("summary=s.json,interval=0"),
                "-Dtlsautopsy.debug.failOutput=mbean", "-Dscenario.recordWaitMillis=300"), MAIN, args, 120);
        assertEquals(0, noJmx.exit(), noJmx.stderr());
        assertEquals(traces(plain.results()), traces(noJmx.results()), "the application saw the same");
        assertEquals(1, noJmx.agentLines().stream().filter(l -> l.startsWith("tls-autopsy: the JMX output failed")).count(),
                noJmx.agentLines().toString());
        assertEquals(8, HardeningIT.json(dir.resolve("nojmx").resolve("s.json")).get("connections").getAsInt());
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void noApplicationBytesReachAnyOutput(String jdk, @TempDir Path dir) throws Exception {
        // the payloads: "ping"/"pong"/"more data", and a plaintext HTTP request on the TLS port, which
        // Netty hex-dumps into its exception ("GET / HTTP" = 474554202f2048545450)
        // and key material: a run of the server's private key, as PEM text
        String key = new String(AgentBehaviourIT.class.getResourceAsStream("/tls-autopsy-server.key.pem").readAllBytes())
                .lines().filter(l -> !l.startsWith("-----")).reduce((a, b) -> b).orElseThrow().substring(0, 16);
        List<String> markers = List.of("ping", "pong", "more data", "474554202f", "GET / HTTP", key);
        for (String api : new String[] {"SSLSocket", "Netty"}) {
            Path d = dir.resolve(api);
            Forked.Run run = Forked.java(jdk, d, List.of(Forked.agentArg("recording=rec.jfr,log=all,interval=0,summary=s.json")),
                    MAIN, List.of("--api", api, "--out", "results.json", "plaintext-client", "short-read-body",
                            "clean-close-client"), 120);
            assertEquals(0, run.exit(), run.stderr());
            Process p = new ProcessBuilder(Paths.get(jdk, "bin", "jfr").toString(), "print", d.resolve("rec.jfr").toString())
                    .redirectErrorStream(true).start();
            String recording = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String logs = String.join("\n", run.agentLines());
            assertTrue(logs.contains("outcome="), logs);
            for (String m : markers) {
                assertFalse(logs.contains(m), api + ": log carries " + m + ": " + logs);
                assertFalse(Files.readString(d.resolve("s.json")).contains(m), api + ": summary carries " + m);
                assertFalse(recording.contains(m), api + ": recording carries " + m);
            }
        }
    }

    /**
     * Another agent retransforms the JDK's engine, socket and channel classes after the agent wove them with
     * the field where each remembers its connection: a retransformation may not add or remove a field, so
     * the agent weaves each class again with the fields it was defined with. The other agent's
     * retransformations succeed, each class keeps its fields (the agent's among them), and the connections
     * before and after are recorded alike.
     */
    @ParameterizedTest
    @MethodSource("jdks")
    void anotherAgentMayRetransformTheEngineClass(String jdk, @TempDir Path dir) throws Exception {
        String main = "dev.tlsautopsy.demo.hardening.RetransformMain";
        // the other agent's jar names its class, which the JVM loads from the demo's jar on the class path
        Path other = dir.resolve("other-agent.jar");
        java.util.jar.Manifest m = new java.util.jar.Manifest();
        m.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", main);
        m.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(other), m)) {
            out.flush();
        }
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("log=all,interval=0,summary=off"),
                "-javaagent:" + other), main, List.of(), 120);
        assertEquals(0, run.exit(), run.stdout() + run.stderr());
        assertTrue(run.stdout().contains("retransformed"), run.stdout());
        // each class kept its fields, the agent's among them: the engine, the socket and the channel remember
        java.util.regex.Matcher fields = java.util.regex.Pattern.compile("fields (\\S+) (\\d+) (\\d+) remembers (\\w+)")
                .matcher(run.stdout());
        int classes = 0;
        while (fields.find()) {
            classes++;
            assertEquals(fields.group(2), fields.group(3), run.stdout());
            assertEquals("true", fields.group(4), run.stdout());
        }
        assertEquals(3, classes, run.stdout());
        assertFalse(run.stderr().contains("cannot instrument"), run.stderr());
        List<String> records = run.agentLines().stream().filter(l -> l.startsWith("tls-autopsy: connectionId=")).toList();
        assertEquals(4, records.size(), run.stderr());
        assertEquals(4, records.stream().filter(r -> r.contains(" outcome=CLEAN ") && r.contains(" api=SSLEngine ")).count(),
                records.toString());
        // both connections' 64 KiB counted, the one after the retransformation as the one before
        assertEquals(2, records.stream().filter(r -> r.contains(" bytesOut=65536 ")).count(), records.toString());
        assertEquals(2, records.stream().filter(r -> r.contains(" bytesIn=65536 ")).count(), records.toString());
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void theAgentsClassesAreLoadedByTheBootLoader(String jdk, @TempDir Path dir) throws Exception {
        Path log = dir.resolve("classes.txt");
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=off"), "-Xlog:class+load=info:file=" + log),
                MAIN, scenarioArgs("clean-close-client"), 120);
        assertEquals(0, run.exit(), run.stderr());
        JsonObject results = run.results();
        assertTrue(results.get("agent").getAsBoolean());
        // loaded from there, the agent records the connection as it always did: both ends CLEAN, as expected
        JsonObject scenario = results.getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals("", scenario.get("clientMismatch").getAsString() + scenario.get("serverMismatch").getAsString(),
                scenario.toString());
        assertEquals("CLEAN", scenario.getAsJsonObject("clientRecord").get("outcome").getAsString(), scenario.toString());
        assertEquals("CLEAN", scenario.getAsJsonObject("serverRecord").get("outcome").getAsString(), scenario.toString());
        assertEquals(2, results.getAsJsonArray("records").size(), results.getAsJsonArray("records").toString());
        // "<class> source: <jar>" from the boot class path; "source: file:<jar>" from the application class loader
        List<String> agentClasses = Files.readAllLines(log).stream()
                .filter(l -> l.contains(" dev.tlsautopsy.") && !l.contains(" dev.tlsautopsy.demo."))
                .collect(Collectors.toList());
        assertTrue(agentClasses.stream().anyMatch(l -> l.contains(" dev.tlsautopsy.track.Tracker source: /")), agentClasses.toString());
        List<String> fromTheApplicationLoader = agentClasses.stream().filter(l -> l.contains("source: file:"))
                .map(l -> l.replaceAll(".* (dev\\.tlsautopsy\\.\\S+) source: .*", "$1")).sorted().collect(Collectors.toList());
        // only the entry point and the options it checks before the boot class path changes
        assertEquals(List.of("dev.tlsautopsy.Agent", "dev.tlsautopsy.Options", "dev.tlsautopsy.Options$Invalid"),
                fromTheApplicationLoader);
    }

    /**
     * A web application's TLS (its classes in a loader of their own, which is its thread's context class
     * loader) starts the agent's threads that start on first use: none of them may hold that loader, through
     * its context class loader or (JDK 17) the access control context it inherited, or the application's
     * classes would outlive its undeploy. The connection is still recorded CLEAN at both ends.
     */
    @ParameterizedTest
    @MethodSource("jdks")
    void theAgentsThreadsHoldNoApplicationClassLoader(String jdk, @TempDir Path dir) throws Exception {
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=s.json,interval=0"),
                "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.security=ALL-UNNAMED"),
                "dev.tlsautopsy.demo.hardening.WebAppLoaderMain", List.of(), 120);
        assertEquals(0, run.exit(), run.stderr());
        List<String> threads = run.stdout().lines().filter(l -> l.startsWith("agent-thread ")).collect(Collectors.toList());
        // a burst of records (the clock) and an SSLSocket began (the watch for its idle time)
        assertTrue(threads.stream().anyMatch(l -> l.startsWith("agent-thread tls-autopsy-clock ")), threads.toString());
        assertTrue(threads.stream().anyMatch(l -> l.startsWith("agent-thread tls-autopsy-peer-activity ")), threads.toString());
        String access = jdk.contains("-17-") ? "other" : "none";
        for (String t : threads) {
            assertTrue(t.endsWith(" context-loader=other access-context=" + access), t);
        }
        JsonObject summary = HardeningIT.json(dir.resolve("s.json"));
        assertEquals(2, summary.get("connections").getAsInt(), summary.toString());
        assertEquals(2, summary.getAsJsonObject("outcomes").get("CLEAN").getAsInt(), summary.toString());
    }

    /**
     * Netty's classes in an application class data sharing archive (Spring Boot's CDS, a dynamic archive):
     * the application's loader finds them there instead of defining them from its jars, and the agent
     * weaves them all the same.
     */
    @ParameterizedTest
    @MethodSource("jdks")
    void nettyFromAnApplicationClassArchiveIsWoven(String jdk, @TempDir Path dir) throws Exception {
        Path archive = dir.resolve("app.jsa");
        List<String> args = List.of("--api", "Netty", "--out", "results.json", "clean-close-client");
        // class data sharing needs the JDK's classes unverified, as by default (Forked verifies them)
        Forked.Run dump = Forked.java(jdk, dir.resolve("dump"), List.of("-XX:-BytecodeVerificationLocal",
                "-XX:ArchiveClassesAtExit=" + archive), MAIN, args, 120);
        assertEquals(0, dump.exit(), dump.stderr());
        assertTrue(Files.size(archive) > 0);
        Path log = dir.resolve("classes.txt");
        Forked.Run run = Forked.java(jdk, dir.resolve("run"), List.of("-XX:-BytecodeVerificationLocal",
                "-XX:SharedArchiveFile=" + archive, Forked.agentArg("summary=off"), "-Xlog:class+load=info:file=" + log),
                MAIN, args, 120);
        assertEquals(0, run.exit(), run.stderr());
        JsonObject scenario = run.results().getAsJsonArray("results").get(0).getAsJsonObject();
        assertEquals("", scenario.get("clientMismatch").getAsString() + scenario.get("serverMismatch").getAsString(),
                scenario.toString());
        assertEquals("CLEAN", scenario.getAsJsonObject("clientRecord").get("outcome").getAsString(), scenario.toString());
        assertEquals("CLEAN", scenario.getAsJsonObject("serverRecord").get("outcome").getAsString(), scenario.toString());
        // the archive was used: JDK 17 shares the application's classes beside the agent's boot class path
        // entry; JDK 25 then shares only the boot loader's, and Netty loads from its jars
        try (Stream<String> lines = Files.lines(log)) {
            assertTrue(lines.anyMatch(l -> l.contains(" io.netty.") && l.contains("source: shared objects file"))
                    || !jdk.contains("-17-"), "no Netty class came from the archive");
        }
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void theShippedSettingsWorkWithStartFlightRecording(String jdk, @TempDir Path dir) throws Exception {
        Path jfc = AttachIT.extractJfc(dir);
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=off"),
                        "-XX:StartFlightRecording:settings=" + jfc + ",filename=" + dir.resolve("start.jfr")),
                MAIN, scenarioArgs("clean-close-server", "reset-on-read"), 120);
        assertEquals(0, run.exit(), run.stderr());
        Forked.Run table = AttachIT.cli(jdk, dir.resolve("summarize"), "summarize", dir.resolve("start.jfr").toString());
        assertEquals(0, table.exit(), table.stderr());
        assertTrue(table.stdout().startsWith("4 connection(s) from 1 file(s)"), table.stdout());
        assertTrue(table.stdout().lines().anyMatch(l -> l.matches("RESET +2 +2 +0 +2 +0 +0")), table.stdout());
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void recordingLogLinesAndRedaction(String jdk, @TempDir Path dir) throws Exception {
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("recording=rec.jfr,log=unclean,redact=true,interval=0")),
                MAIN, scenarioArgs("clean-close-client", "truncated"), 120);
        assertEquals(0, run.exit(), run.stderr());

        List<String> lines = run.agentLines();
        List<String> starts = lines.stream().filter(l -> l.contains(": instrumenting ")).collect(Collectors.toList());
        assertEquals(1, starts.size(), "one start-up line: " + lines);
        assertTrue(starts.get(0).contains("summary: " + dir.toRealPath()), starts.get(0));
        List<String> endings = lines.stream().filter(l -> l.startsWith("tls-autopsy: connectionId=")).collect(Collectors.toList());
        assertEquals(2, endings.size(), "log=unclean: the two TRUNCATED sides only: " + endings);
        for (String l : endings) {
            assertTrue(l.contains(" outcome=TRUNCATED initiator=PEER "), l);
            assertTrue(l.matches(".* peerHost=host-[0-9a-f]{8} .*"), l);
            assertFalse(l.contains("localhost") || l.contains("127.0.0.1"), l);
        }

        Path summary;
        try (Stream<Path> files = Files.list(dir)) {
            summary = files.filter(p -> p.getFileName().toString().matches("tls-autopsy-\\d+\\.json")).findFirst().orElseThrow();
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(summary)));
        String json = Files.readString(summary);
        assertFalse(json.contains("localhost") || json.contains("127.0.0.1"), json);
        assertTrue(json.contains("\"final\": true"), json);

        Path jfr = Paths.get(jdk, "bin", "jfr");
        Process p = new ProcessBuilder(jfr.toString(), "print", "--events", "dev.tlsautopsy.ConnectionEnd",
                dir.resolve("rec.jfr").toString()).redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), printed);
        assertEquals(4, printed.split("dev.tlsautopsy.ConnectionEnd \\{").length - 1, printed);
        assertTrue(printed.contains("outcome = \"TRUNCATED\"") && printed.contains("outcome = \"CLEAN\""), printed);
        assertTrue(printed.contains("stackTrace = ["), "events carry the observing thread's stack: " + printed);
        assertFalse(printed.contains("localhost"), printed);

        p = new ProcessBuilder(jfr.toString(), "print", "--events", "dev.tlsautopsy.EndingStatistics",
                dir.resolve("rec.jfr").toString()).redirectErrorStream(true).start();
        String stats = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        // the exit-time statistics event races JFR's own shutdown hook: when it made it, it holds the final counts
        if (stats.contains("connections =")) {
            assertTrue(stats.contains("connections = 4") && stats.contains("truncated = 2") && stats.contains("clean = 2"),
                    "the last statistics event holds the final counts: " + stats);
        }
    }
}
