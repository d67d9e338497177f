package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tlsautopsy.demo.scenario.DiagnosisScenarios;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The diagnoses end to end, in a forked JVM with the agent on JDK 17 and 25: connections idle behind a
 * proxy that ends them after a fixed idle time give one IDLE_TIMEOUT with that time; kept connections the
 * server closed and the client reused give STALE_REUSE. Each from the summary, the MBean and summarize.
 */
class DiagnosisIT {

    /**
     * How much later than its peer's last byte left the client may read it (JDK 25 with verification on,
     * a full verify on two cores: 23 ms seen).
     */
    private static final long READ_LATE_MILLIS = 100;

    static Stream<String> jdks() {
        return Forked.jdks().stream();
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void idleTimeoutAndStaleReuseAreNamedWithTheirTimes(String jdk, @TempDir Path dir) throws Exception {
        Forked.Run run = Forked.java(jdk, dir, List.of(Forked.agentArg("summary=summary.json,interval=0")),
                "dev.tlsautopsy.demo.scenario.ScenarioMain",
                List.of("--api", "SSLSocket", "--out", "results.json", "idle-timeout", "stale-reuse"), 120);
        assertEquals(0, run.exit(), run.stderr());
        JsonObject results = run.results();
        String proxyPeer = null;
        String serverPeer = null;
        for (JsonElement e : results.getAsJsonArray("diagnosisScenarios")) {
            JsonObject s = e.getAsJsonObject();
            assertEquals("", s.get("error").getAsString(), s.get("scenario").getAsString());
            List<JsonObject> clients = new ArrayList<>();
            for (JsonElement r : s.getAsJsonArray("records")) {
                if (r.getAsJsonObject().get("role").getAsString().equals("CLIENT")) {
                    clients.add(r.getAsJsonObject());
                }
            }
            assertEquals(DiagnosisScenarios.CONNECTIONS, clients.size(), s.toString());
            for (JsonObject c : clients) {
                long idle = c.get("idleMillis").getAsLong();
                long noticed = c.get("noticedAfterMillis").getAsLong();
                String peer = c.get("peerHost").getAsString() + ":" + c.get("peerPort").getAsInt();
                if (s.get("scenario").getAsString().equals("idle-timeout")) {
                    proxyPeer = peer;
                    assertEquals("TRUNCATED/PEER", c.get("outcome").getAsString() + "/" + c.get("initiator").getAsString(), c.toString());
                    // the proxy ends a connection within 10 ms of its idle time, counted from the last byte it
                    // forwarded; the client's idle time counts from its read of that byte, which on a busy
                    // two-core machine may return tens of milliseconds later
                    assertTrue(idle >= DiagnosisScenarios.IDLE_MILLIS - READ_LATE_MILLIS
                            && idle <= DiagnosisScenarios.IDLE_MILLIS + 300, c.toString());
                    assertTrue(noticed >= 0 && noticed <= 50, "the blocked read saw it at once: " + c);
                } else {
                    serverPeer = peer;
                    assertEquals("CLEAN/PEER", c.get("outcome").getAsString() + "/" + c.get("initiator").getAsString(), c.toString());
                    assertTrue(c.get("closeNotifyReceived").getAsBoolean(), c.toString());
                    // the server closed after 300 ms idle; the client came back at 1500 ms
                    long gap = DiagnosisScenarios.CLIENT_REUSE_MILLIS - DiagnosisScenarios.SERVER_KEEP_ALIVE_MILLIS;
                    assertTrue(noticed >= gap - 600 && noticed <= gap + 50, "noticed " + noticed + " ms after: " + c);
                    // the server's keep-alive counts from its answer, the client's idle time from its read of it
                    assertTrue(idle >= DiagnosisScenarios.SERVER_KEEP_ALIVE_MILLIS - READ_LATE_MILLIS && idle <= gap + 200,
                            c.toString());
                }
            }
        }

        JsonObject summary = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject();
        List<JsonObject> idle = diagnoses(summary, "IDLE_TIMEOUT", proxyPeer);
        assertEquals(1, idle.size(), summary.getAsJsonArray("diagnoses").toString());
        assertEquals(DiagnosisScenarios.CONNECTIONS, idle.get(0).get("connections").getAsInt());
        assertEquals(DiagnosisScenarios.IDLE_MILLIS / 1000.0, idle.get(0).get("idleSeconds").getAsDouble(), 0.15);
        assertTrue(idle.get(0).get("hint").getAsString().startsWith("3 connections to " + proxyPeer
                + " were ended by the peer side after 2"), idle.get(0).toString());
        List<JsonObject> stale = diagnoses(summary, "STALE_REUSE", serverPeer);
        assertEquals(1, stale.size(), summary.getAsJsonArray("diagnoses").toString());
        assertEquals(DiagnosisScenarios.CONNECTIONS, stale.get(0).get("connections").getAsInt());
        double staleSeconds = stale.get(0).get("staleSeconds").getAsDouble();
        assertTrue(staleSeconds >= 0.6 && staleSeconds <= 1.25, stale.get(0).toString());
        // nothing else invented for the client side's peers
        for (JsonElement e : summary.getAsJsonArray("diagnoses")) {
            JsonObject d = e.getAsJsonObject();
            String peer = d.get("peer").getAsString();
            if (peer.equals(proxyPeer) || peer.equals(serverPeer)) {
                assertTrue(d.equals(idle.get(0)) || d.equals(stale.get(0)), "unexpected " + d);
            }
        }

        // the MBean says the same while the JVM runs
        List<String> mbean = new ArrayList<>();
        results.getAsJsonArray("diagnoses").forEach(e -> mbean.add(e.getAsString()));
        assertTrue(mbean.contains("IDLE_TIMEOUT " + proxyPeer + ": " + idle.get(0).get("hint").getAsString()), mbean.toString());
        assertTrue(mbean.contains("STALE_REUSE " + serverPeer + ": " + stale.get(0).get("hint").getAsString()), mbean.toString());

        // and summarize prints them
        Forked.Run summarize = AttachIT.cli(jdk, dir.resolve("summarize"), "summarize", dir.resolve("summary.json").toString());
        assertEquals(0, summarize.exit(), summarize.stderr());
        assertTrue(summarize.stdout().contains(idle.get(0).get("hint").getAsString()), summarize.stdout());
        assertTrue(summarize.stdout().contains(stale.get(0).get("hint").getAsString()), summarize.stdout());
    }

    private static List<JsonObject> diagnoses(JsonObject summary, String kind, String peer) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement e : summary.getAsJsonArray("diagnoses")) {
            JsonObject d = e.getAsJsonObject();
            if (d.get("kind").getAsString().equals(kind) && d.get("peer").getAsString().equals(peer)) {
                out.add(d);
            }
        }
        return out;
    }
}
