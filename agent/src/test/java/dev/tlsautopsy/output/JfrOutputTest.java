package dev.tlsautopsy.output;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JFR events' names and fields, read back from a real recording. */
class JfrOutputTest {

    @Test
    void connectionEndAndStatisticsCarryTheRecord(@TempDir Path dir) throws Exception {
        Stats stats = new Stats(10, 10);
        Ending e = new Ending(42, Outcome.SHORT_READ, Initiator.PEER, true, false, false, "", "", "EOF", "",
                "SSLSocket", "sun.security.ssl.SSLSocketImpl", "CLIENT", "db.example", 5432, 40000, "TLSv1.3",
                "TLS_AES_128_GCM_SHA256", 100, 200, 1234, 61000, 2500);
        stats.add(e);
        Path file = dir.resolve("rec.jfr");
        JfrOutput jfr = new JfrOutput();
        try (Recording r = new Recording()) {
            r.enable("dev.tlsautopsy.ConnectionEnd").withStackTrace();
            r.enable("dev.tlsautopsy.EndingStatistics");
            r.start();
            Object token = jfr.started();
            jfr.ended(e, token);
            JfrOutput.commitStatistics(stats, () -> 3);
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        RecordedEvent end = events.stream().filter(x -> x.getEventType().getName().equals("dev.tlsautopsy.ConnectionEnd"))
                .findFirst().orElseThrow();
        assertEquals("TLS Connection End", end.getEventType().getLabel());
        assertEquals(List.of("TLS Autopsy"), end.getEventType().getCategoryNames());
        assertEquals(42, end.getLong("connectionId"));
        assertEquals("SHORT_READ", end.getString("outcome"));
        assertEquals("PEER", end.getString("initiator"));
        assertEquals("EOF", end.getString("appSaw"));
        assertEquals("db.example", end.getString("peerHost"));
        assertEquals(5432, end.getInt("peerPort"));
        assertEquals(200, end.getLong("bytesOut"));
        assertEquals(1234, end.getLong("durationMillis"));
        assertEquals(61000, end.getLong("idleMillis"));
        assertEquals(2500, end.getLong("noticedAfterMillis"));
        assertEquals(java.time.Duration.ofSeconds(61), end.getDuration("idleMillis"), "a timespan in milliseconds");
        assertEquals(jdk.jfr.Timespan.MILLISECONDS,
                end.getEventType().getField("noticedAfterMillis").getAnnotation(jdk.jfr.Timespan.class).value());
        assertEquals(true, end.getStackTrace() != null, "stack trace of the observing thread");
        RecordedEvent s = events.stream().filter(x -> x.getEventType().getName().equals("dev.tlsautopsy.EndingStatistics"))
                .findFirst().orElseThrow();
        assertEquals(1, s.getLong("connections"));
        assertEquals(3, s.getLong("open"));
        assertEquals(1, s.getLong("shortRead"));
        assertEquals(0, s.getLong("clean"));
    }
}
