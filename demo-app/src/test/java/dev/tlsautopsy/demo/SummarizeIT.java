package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code summarize} over a JDK 17 recording, a JDK 25 summary and a corrupt file; and the CLI's usage errors. */
class SummarizeIT {

    static final String JDK17 = Forked.jdks().get(0);
    static final String JDK25 = Forked.jdks().get(Forked.jdks().size() - 1);

    @Test
    void mergesRecordingsAndSummariesFromManyJvms(@TempDir Path dir) throws Exception {
        Forked.Run a = Forked.java(JDK17, dir.resolve("a"), List.of(Forked.agentArg("recording=a.jfr,summary=off")),
                "dev.tlsautopsy.demo.scenario.ScenarioMain", List.of("--api", "SSLSocket", "--out", "results.json",
                        "clean-close-client", "truncated", "reset-on-read"), 120);
        Forked.Run b = Forked.java(JDK25, dir.resolve("b"), List.of(Forked.agentArg("summary=b.json,interval=0")),
                "dev.tlsautopsy.demo.scenario.ScenarioMain", List.of("--api", "SSLEngine", "--out", "results.json",
                        "clean-close-server", "bad-record-mac", "untrusted-certificate"), 120);
        assertEquals(0, a.exit(), a.stderr());
        assertEquals(0, b.exit(), b.stderr());
        int recordsA = a.results().getAsJsonArray("records").size();
        int recordsB = b.results().getAsJsonArray("records").size();
        assertEquals(6, recordsA);
        assertEquals(6, recordsB);
        Path corrupt = Files.writeString(dir.resolve("corrupt.json"), "{\"schemaVersion\": 1, \"connections\": ");
        String jfr = dir.resolve("a").resolve("a.jfr").toString();
        String json = dir.resolve("b").resolve("b.json").toString();

        byte[] noise = new byte[4096];
        new java.util.Random(3).nextBytes(noise);
        Path junk = Files.write(dir.resolve("junk.jfr"), noise);
        byte[] recording = Files.readAllBytes(Path.of(jfr));
        Path truncated = Files.write(dir.resolve("truncated.jfr"), java.util.Arrays.copyOf(recording, recording.length / 3));
        Path missing = dir.resolve("missing.json");

        Forked.Run table = AttachIT.cli(JDK17, dir.resolve("t"), "summarize", jfr, json, corrupt.toString(),
                junk.toString(), truncated.toString(), missing.toString());
        assertEquals(1, table.exit(), "a file could not be read");
        List<String> skipped = table.stderr().lines().toList();
        assertEquals(4, skipped.size(), "one line per unreadable file: " + skipped);
        assertEquals("tls-autopsy: skipping " + corrupt + ": neither a JFR recording nor a JSON summary", skipped.get(0));
        assertEquals("tls-autopsy: skipping " + junk + ": neither a JFR recording nor a JSON summary", skipped.get(1));
        assertTrue(skipped.get(2).startsWith("tls-autopsy: skipping " + truncated + ": a JFR recording that cannot be read"),
                skipped.get(2));
        assertEquals("tls-autopsy: skipping " + missing + ": no such file", skipped.get(3));
        assertTrue(table.stdout().startsWith("12 connection(s) from 2 file(s), 0 still open"), table.stdout());
        assertTrue(table.stdout().lines().anyMatch(l -> l.matches("TRUNCATED +2 +2 +0 +2 +0 +0")), table.stdout());
        assertTrue(table.stdout().lines().anyMatch(l -> l.matches("BAD_RECORD_MAC +2 +2 +0 +0 +2 +0")), table.stdout());

        Forked.Run merged = AttachIT.cli(JDK25, dir.resolve("j"), "summarize", "--json", jfr, json);
        assertEquals(0, merged.exit(), merged.stderr());
        JsonObject m = JsonParser.parseString(merged.stdout()).getAsJsonObject();
        assertEquals(1, m.get("schemaVersion").getAsInt());
        assertEquals(12, m.get("connections").getAsInt());
        int sum = 0;
        for (String key : new String[] {"outcomes", "handshakeOutcomes"}) {
            assertEquals(10, m.getAsJsonObject(key).size());
            for (Map.Entry<String, JsonElement> e : m.getAsJsonObject(key).entrySet()) {
                sum += e.getValue().getAsInt();
            }
        }
        assertEquals(12, sum);
        assertEquals(6, count(m.getAsJsonObject("byApi").getAsJsonObject("SSLSocket")));
        assertEquals(6, count(m.getAsJsonObject("byApi").getAsJsonObject("SSLEngine")));
        assertEquals(2, m.getAsJsonObject("handshakeOutcomes").get("FATAL_ALERT").getAsInt());
        assertTrue(m.getAsJsonArray("recent").size() >= 8, m.toString());
    }

    private static int count(JsonObject counts) {
        int n = 0;
        for (Map.Entry<String, JsonElement> e : counts.entrySet()) {
            n += e.getValue().getAsInt();
        }
        return n;
    }

    @Test
    void usageErrorsAreOneLineWithExitTwo(@TempDir Path dir) throws Exception {
        String[][] cases = {
            {"", "tls-autopsy: no command given; try --help"},
            {"frobnicate", "tls-autopsy: unknown command 'frobnicate'; try --help"},
            {"summarize", "tls-autopsy: usage: summarize FILE... [--json | --html REPORT.html] (.jfr recordings and .json summaries)"},
            {"attach", "tls-autopsy: usage: attach PID [key=value,...]"},
            {"watch", "tls-autopsy: usage: watch PID"},
        };
        for (String[] c : cases) {
            Forked.Run r = c[0].isEmpty() ? AttachIT.cli(JDK17, dir.resolve("none"))
                    : AttachIT.cli(JDK17, dir.resolve(c[0]), c[0]);
            assertEquals(2, r.exit(), c[0]);
            assertEquals(List.of(c[1]), r.stderr().lines().toList(), c[0]);
        }
        // arguments that are there but wrong: one line each, usage errors 2, failures 1
        String[][] wrong = {
            {"2", "tls-autopsy: usage: attach PID [key=value,...]", "attach", "not-a-pid"},
            {"2", "tls-autopsy: usage: watch PID", "watch", "abc"},
            {"1", "tls-autopsy: cannot attach to 2147483646: No such process", "attach", "2147483646"},
            {"2", "tls-autopsy: bad option interval=soon: expected a whole number of seconds", "attach", "1", "interval=soon"},
        };
        for (String[] w : wrong) {
            Forked.Run r = AttachIT.cli(JDK17, dir.resolve("wrong-" + w[2] + "-" + w[3]),
                    java.util.Arrays.copyOfRange(w, 2, w.length));
            assertEquals(Integer.parseInt(w[0]), r.exit(), String.join(" ", w));
            List<String> lines = r.stderr().lines().toList();
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith(w[1]), lines.get(0));
        }
        Forked.Run help = AttachIT.cli(JDK17, dir.resolve("help"), "--help");
        assertEquals(0, help.exit());
        assertTrue(help.stdout().startsWith("usage: java -jar tls-autopsy-agent.jar COMMAND"), help.stdout());
        Forked.Run missing = AttachIT.cli(JDK17, dir.resolve("missing"), "summarize", dir.resolve("nope.jfr").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.stderr().startsWith("tls-autopsy: skipping " + dir.resolve("nope.jfr")), missing.stderr());
        Forked.Run gone = AttachIT.cli(JDK17, dir.resolve("gone"), "attach", "999999999");
        assertEquals(1, gone.exit());
        assertEquals(1, gone.stderr().lines().count(), gone.stderr());
    }
}
