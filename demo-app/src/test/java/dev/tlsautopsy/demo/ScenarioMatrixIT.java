package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario, for SSLSocket and SSLEngine, TLS 1.3 and 1.2, on JDK 17 and 25: client and server in
 * a JVM started with {@code -javaagent}. Asserts both sides' records field by field, that the summary's
 * and the MBean's counts equal the records, and that the application saw exactly the same thing in a
 * JVM without the agent.
 */
class ScenarioMatrixIT {

    static final String[] OUTCOMES = {"CLEAN", "TRUNCATED", "SHORT_READ", "BAD_RECORD_MAC", "RESET", "FATAL_ALERT",
        "LOCAL_ABORT", "TIMEOUT", "ABANDONED", "ERROR"};

    static Stream<Arguments> groups() {
        List<Arguments> out = new ArrayList<>();
        for (String jdk : Forked.jdks()) {
            for (String api : new String[] {"SSLSocket", "SSLEngine", "SSLEngineBC", "Netty", "Netty4.1", "NettyOpenSsl",
                "NettyOpenSsl4.1"}) {
                for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
                    out.add(Arguments.of(Forked.shortName(jdk), api, protocol, jdk));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("groups")
    void everyScenarioEndsAsExpected(String name, String group, String protocol, String jdk, @TempDir Path dir)
            throws Exception {
        // *4.1: the same Netty scenarios with Netty 4.1 on the class path instead of 4.2
        String api = group.replace("4.1", "");
        String recordedApi = api.startsWith("Netty") ? "Netty" : api.startsWith("SSLEngine") ? "SSLEngine" : api;
        String classpath = group.endsWith("4.1") ? Forked.NETTY41_CLASSPATH : Forked.DEMO.toString();
        List<String> args = List.of("--api", api, "--protocol", protocol, "--out", "results.json");
        CompletableFuture<Forked.Run> plain = CompletableFuture.supplyAsync(() -> {
            try {
                return Forked.java(jdk, dir.resolve("without-agent"), List.of(), classpath,
                        "dev.tlsautopsy.demo.scenario.ScenarioMain", args, 240);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Forked.Run agent = Forked.java(jdk, dir.resolve("with-agent"),
                List.of(Forked.agentArg("summary=summary.json,interval=0")), classpath,
                "dev.tlsautopsy.demo.scenario.ScenarioMain", args, 240);
        if (group.endsWith("4.1")) {
            assertTrue(agent.stdout().contains("netty 4.1."), "not run on Netty 4.1: " + agent.stdout());
        }
        Forked.Run without = plain.get();
        assertEquals(0, agent.exit(), agent.stderr());
        assertEquals(0, without.exit(), without.stderr());

        JsonObject withResults = agent.results();
        JsonObject withoutResults = without.results();
        assertTrue(withResults.get("agent").getAsBoolean(), "the agent was not seen in the forked JVM");
        assertEquals(false, withResults.get("jsseOpenToApplication").getAsBoolean(),
                "the agent opened sun.security.ssl to the application's class path");
        List<String> failures = new ArrayList<>();
        JsonArray records = withResults.getAsJsonArray("records");
        int attributed = 0;
        for (JsonElement e : withResults.getAsJsonArray("results")) {
            JsonObject r = e.getAsJsonObject();
            String s = r.get("scenario").getAsString();
            if (!r.get("error").getAsString().isEmpty()) {
                failures.add(s + ": " + r.get("error").getAsString());
            }
            if (!r.get("clientMismatch").getAsString().isEmpty()) {
                failures.add(s + " client: " + r.get("clientMismatch").getAsString() + " " + r.get("clientRecord"));
            }
            if (!r.get("serverMismatch").getAsString().isEmpty()) {
                failures.add(s + " server: " + r.get("serverMismatch").getAsString() + " " + r.get("serverRecord"));
            }
            if (r.getAsJsonArray("extraRecords").size() > 0) {
                failures.add(s + ": more than one record per connection: " + r.get("extraRecords"));
            }
            attributed += (r.get("clientRecord").isJsonNull() ? 0 : 1) + (r.get("serverRecord").isJsonNull() ? 0 : 1)
                    + r.getAsJsonArray("extraRecords").size();
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
        assertEquals(records.size(), attributed, "records outside any scenario: " + records);

        Set<Long> ids = new HashSet<>();
        Map<String, Integer> byOutcome = new HashMap<>();
        for (JsonElement e : records) {
            JsonObject rec = e.getAsJsonObject();
            assertTrue(ids.add(rec.get("connectionId").getAsLong()), "connectionId twice: " + rec);
            byOutcome.merge(rec.get("outcome").getAsString(), 1, Integer::sum);
            // every record names its peer; a socket and a Netty channel know their local port from the start
            // (an engine learns it from the channel its records go to, which a server that never wrote lacks)
            assertTrue(!rec.get("peerHost").getAsString().isEmpty() && rec.get("peerPort").getAsInt() > 0,
                    "no peer: " + rec);
            if (!recordedApi.equals("SSLEngine")) {
                assertTrue(rec.get("localPort").getAsInt() > 0, "no local port: " + rec);
            }
        }

        Path summaryFile = agent.dir().resolve("summary.json");
        JsonObject summary = JsonParser.parseString(Files.readString(summaryFile)).getAsJsonObject();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(summaryFile)));
        assertEquals(1, summary.get("schemaVersion").getAsInt());
        assertTrue(summary.get("final").getAsBoolean());
        assertEquals(records.size(), summary.get("connections").getAsInt(), "summary connections vs records");
        assertEquals(0, summary.get("open").getAsInt(), "connections still open at exit");
        for (String o : OUTCOMES) {
            int counted = summary.getAsJsonObject("outcomes").get(o).getAsInt()
                    + summary.getAsJsonObject("handshakeOutcomes").get(o).getAsInt();
            assertEquals(byOutcome.getOrDefault(o, 0), counted, "summary count of " + o);
        }
        Map<String, Integer> recordsByApi = new HashMap<>();
        for (JsonElement e : records) {
            recordsByApi.merge(e.getAsJsonObject().get("api").getAsString(), 1, Integer::sum);
        }
        assertTrue(recordsByApi.getOrDefault(recordedApi, 0) > 0, "no " + recordedApi + " record");
        for (Map.Entry<String, JsonElement> counts : summary.getAsJsonObject("byApi").entrySet()) {
            int apiTotal = 0;
            for (Map.Entry<String, JsonElement> c : counts.getValue().getAsJsonObject().entrySet()) {
                apiTotal += c.getValue().getAsInt();
            }
            assertEquals((int) recordsByApi.getOrDefault(counts.getKey(), 0), apiTotal, "byApi." + counts.getKey());
        }

        JsonObject mbean = withResults.getAsJsonObject("mbean");
        assertEquals(records.size(), mbean.get("Connections").getAsInt(), "MBean Connections");
        for (String o : OUTCOMES) {
            assertEquals(byOutcome.getOrDefault(o, 0), mbean.get(o).getAsInt(), "MBean " + o);
        }

        // the application saw exactly the same with and without the agent
        Map<String, JsonObject> plainByName = new HashMap<>();
        for (JsonElement e : withoutResults.getAsJsonArray("results")) {
            plainByName.put(e.getAsJsonObject().get("scenario").getAsString(), e.getAsJsonObject());
        }
        for (JsonElement e : withResults.getAsJsonArray("results")) {
            JsonObject r = e.getAsJsonObject();
            JsonObject p = plainByName.get(r.get("scenario").getAsString());
            assertEquals(p.get("clientTrace"), r.get("clientTrace"), r.get("scenario") + " client, without vs with agent");
            assertEquals(p.get("serverTrace"), r.get("serverTrace"), r.get("scenario") + " server, without vs with agent");
        }
        assertTrue(withoutResults.getAsJsonArray("records").isEmpty());
    }
}
