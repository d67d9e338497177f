package dev.tlsautopsy.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SummaryWriterTest {

    static Ending ending(long id, Outcome o, boolean handshake, String role, String host, int port) {
        return new Ending(id, o, Initiator.PEER, handshake, false, false, "", "", "EOF", "", "SSLSocket",
                "sun.security.ssl.SSLSocketImpl", role, host, port, 5000, "TLSv1.3", "TLS_AES_128_GCM_SHA256",
                1, 2, 3, 4, 5);
    }

    @Test
    void schemaCountsBoundsAndPermissions(@TempDir Path dir) throws Exception {
        Stats stats = new Stats(2, 3);
        long id = 0;
        for (int i = 0; i < 5; i++) {
            stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "a.example", 443));
        }
        stats.add(ending(++id, Outcome.TRUNCATED, true, "CLIENT", "b.example", 443));
        stats.add(ending(++id, Outcome.TRUNCATED, true, "CLIENT", "b.example", 443));
        stats.add(ending(++id, Outcome.RESET, false, "SERVER", "10.0.0.9", 51234));
        stats.add(ending(++id, Outcome.RESET, false, "SERVER", "10.0.0.9", 51999));
        stats.add(ending(++id, Outcome.BAD_RECORD_MAC, true, "CLIENT", "c.example", 8443));
        Path file = dir.resolve("summary.json");
        SummaryWriter w = new SummaryWriter(file, stats, () -> 4, "9.9.9");
        w.write(true);

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
        JsonObject j = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        assertEquals(1, j.get("schemaVersion").getAsInt());
        assertEquals("9.9.9", j.get("agentVersion").getAsString());
        assertEquals(ProcessHandle.current().pid(), j.get("pid").getAsLong());
        assertTrue(j.get("final").getAsBoolean());
        assertEquals(10, j.get("connections").getAsInt());
        assertEquals(4, j.get("open").getAsInt());
        JsonObject outcomes = j.getAsJsonObject("outcomes");
        JsonObject handshake = j.getAsJsonObject("handshakeOutcomes");
        assertEquals(10, outcomes.size());
        assertEquals(10, handshake.size());
        int sum = 0;
        for (Outcome o : Outcome.all()) {
            sum += outcomes.get(o.name()).getAsInt() + handshake.get(o.name()).getAsInt();
        }
        assertEquals(10, sum, "outcomes and handshakeOutcomes sum to connections");
        assertEquals(2, handshake.get("RESET").getAsInt());
        assertEquals(5, j.getAsJsonObject("byApi").getAsJsonObject("SSLSocket").get("CLEAN").getAsInt());
        assertEquals(0, j.getAsJsonObject("byApi").getAsJsonObject("Netty").size());

        JsonArray peers = j.getAsJsonArray("byPeer");
        assertEquals(2, peers.size(), "bounded by maxPeers");
        assertEquals("10.0.0.9", peers.get(0).getAsJsonObject().get("peer").getAsString(),
                "server-side peers are keyed by host alone, most unclean first");
        assertEquals(2, peers.get(0).getAsJsonObject().get("connections").getAsInt());
        assertEquals("b.example:443", peers.get(1).getAsJsonObject().get("peer").getAsString());

        JsonArray recent = j.getAsJsonArray("recent");
        assertEquals(3, recent.size(), "bounded by recent");
        assertEquals(8, recent.get(0).getAsJsonObject().get("connectionId").getAsLong(), "oldest first");
        for (int i = 0; i < recent.size(); i++) {
            JsonObject r = recent.get(i).getAsJsonObject();
            assertFalse("CLEAN".equals(r.get("outcome").getAsString()));
            assertEquals(23, r.size(), "every field of the record");
            assertEquals(4, r.get("idleMillis").getAsLong());
            assertEquals(5, r.get("noticedAfterMillis").getAsLong());
        }
        // the peer ended these connections and the application noticed 5 ms later: stale reuses
        JsonArray diagnoses = j.getAsJsonArray("diagnoses");
        assertFalse(diagnoses.isEmpty());
        for (int i = 0; i < diagnoses.size(); i++) {
            JsonObject d = diagnoses.get(i).getAsJsonObject();
            assertEquals("STALE_REUSE", d.get("kind").getAsString());
            assertTrue(d.get("connections").getAsLong() > 0);
            assertEquals(0.0, d.get("staleSeconds").getAsDouble());
            assertTrue(d.get("hint").getAsString().startsWith(d.get("connections").getAsLong() + " connection"), d.toString());
        }
    }

    @Test
    void anUnwritableTargetWarnsOnceAndNeverThrows(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("missing-dir").resolve("summary.json");
        SummaryWriter w = new SummaryWriter(file, new Stats(1, 1), () -> 0, "1");
        w.write(false);
        w.write(true);
        assertFalse(Files.exists(file));
    }

    @Test
    void redactionIsStableAndHidesTheHost() {
        String a = Outputs.redactHost("db.internal.example");
        assertEquals(a, Outputs.redactHost("db.internal.example"));
        assertTrue(a.matches("host-[0-9a-f]{8}"), a);
        assertFalse(a.equals(Outputs.redactHost("db2.internal.example")));
        assertEquals("", Outputs.redactHost(""));
    }

    @Test
    void logLinesQuoteWhatNeedsIt() {
        Ending e = new Ending(7, Outcome.TRUNCATED, Initiator.PEER, true, false, false, "", "", "EOF",
                "javax.net.ssl.SSLException: closing \"inbound\"", "SSLEngine", "x.Engine", "CLIENT", "h", 1, -1,
                "TLSv1.2", "C", 0, 0, 5, -1, 0);
        String line = LogLine.format(e);
        assertTrue(line.startsWith("tls-autopsy: connectionId=7 outcome=TRUNCATED initiator=PEER "), line);
        assertTrue(line.contains(" alert=\"\" "), line);
        assertTrue(line.contains(" exception=\"javax.net.ssl.SSLException: closing \\\"inbound\\\"\" "), line);
        assertTrue(line.contains(" localPort=-1 "), line);
    }
}
