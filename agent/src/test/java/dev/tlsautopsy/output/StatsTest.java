package dev.tlsautopsy.output;

import static dev.tlsautopsy.output.SummaryWriterTest.ending;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tlsautopsy.classify.Outcome;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Per-peer counts are exact whether a peer's connections come in a row or between other peers'. */
class StatsTest {

    private static Map<String, Long> peers(Stats stats) {
        Map<String, Long> m = new TreeMap<>();
        for (Stats.PeerCounts p : stats.snapshot().byPeer) {
            m.put(p.peer, p.connections);
        }
        return m;
    }

    @Test
    void aPeerIsCountedTheSameInARowAndInterleaved() {
        Stats stats = new Stats(10, 0);
        long id = 0;
        for (int i = 0; i < 3; i++) {
            stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "a.example", 443));
        }
        stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "b.example", 443));
        stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "a.example", 443));
        stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "a.example", 8443));
        // a server's peers are keyed by host alone: their ports differ from one connection to the next
        stats.add(ending(++id, Outcome.RESET, false, "SERVER", "10.0.0.9", 51234));
        stats.add(ending(++id, Outcome.RESET, false, "SERVER", "10.0.0.9", 51999));
        // the same host and port in the other role is another key
        stats.add(ending(++id, Outcome.CLEAN, true, "SERVER", "a.example", 443));
        // a JVM at both ends ends a client's and a server's connection in turn
        for (int i = 0; i < 2; i++) {
            stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "a.example", 443));
            stats.add(ending(++id, Outcome.CLEAN, true, "SERVER", "10.0.0.9", 52000 + i));
        }
        // a client whose peer port is unknown is keyed by host alone, as a server's peer is
        stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "10.0.0.9", -1));
        assertEquals(Map.of("a.example:443", 6L, "b.example:443", 1L, "a.example:8443", 1L, "10.0.0.9", 5L,
                "a.example", 1L), peers(stats));
    }

    @Test
    void theLastPeerEvictedIsCountedAgainFromScratch() {
        // maxPeers 1 keeps 4 candidates: a fifth peer evicts the one with the fewest unclean, oldest first
        Stats stats = new Stats(1, 0);
        long id = 0;
        for (String host : new String[] {"b", "c", "d"}) {
            stats.add(ending(++id, Outcome.TRUNCATED, true, "CLIENT", host, 443));
        }
        stats.add(ending(++id, Outcome.CLEAN, true, "CLIENT", "a", 443));
        // e evicts a (no unclean connection), the peer added last; then a comes back as a new peer, counted
        // from scratch
        stats.add(ending(++id, Outcome.TRUNCATED, true, "CLIENT", "e", 443));
        for (int i = 0; i < 3; i++) {
            stats.add(ending(++id, Outcome.TRUNCATED, true, "CLIENT", "a", 443));
        }
        assertEquals(Map.of("a:443", 3L), peers(stats), "the top peer by unclean connections");
    }
}
