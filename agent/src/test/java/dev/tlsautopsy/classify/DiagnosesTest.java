package dev.tlsautopsy.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The diagnosis rules on records, one kind at a time, and what they must not conclude. */
class DiagnosesTest {

    static Ending ending(Outcome o, Initiator i, boolean handshake, boolean closeNotifyReceived, String alert,
                         String direction, long idle, long noticed) {
        return new Ending(1, o, i, handshake, false, closeNotifyReceived, alert, direction, "EOF", "", "SSLSocket",
                "sun.security.ssl.SSLSocketImpl", "CLIENT", "db.example", 5432, 40000, "TLSv1.3", "TLS_AES_128_GCM_SHA256",
                0, 0, 1000, idle, noticed);
    }

    static Ending saw(Ending e, String appSaw) {
        return new Ending(e.connectionId(), e.outcome(), e.initiator(), e.handshakeCompleted(), e.closeNotifySent(),
                e.closeNotifyReceived(), e.alert(), e.alertDirection(), appSaw, e.exception(), e.api(), e.implementation(),
                e.role(), e.peerHost(), e.peerPort(), e.localPort(), e.protocol(), e.cipherSuite(), e.bytesIn(), e.bytesOut(),
                e.durationMillis(), e.idleMillis(), e.noticedAfterMillis());
    }

    static List<Diagnoses.Diagnosis> diagnose(Ending... endings) {
        Diagnoses.PeerEvidence p = new Diagnoses.PeerEvidence("db.example:5432", true);
        for (Ending e : endings) {
            p.add(e);
        }
        return Diagnoses.of(List.of(p), 100);
    }

    @Test
    void agreeingIdleTimesOfPeerEndingsAreAnIdleTimeout() {
        List<Diagnoses.Diagnosis> d = diagnose(
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 299_000, -1),
                ending(Outcome.RESET, Initiator.PEER, true, false, "", "", 300_000, 0),
                ending(Outcome.TRUNCATED, Initiator.UNKNOWN, true, false, "", "", 301_000, -1),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 302_000, -1),
                ending(Outcome.SHORT_READ, Initiator.PEER, true, false, "", "", 298_000, -1),
                // not an idle timeout: far off, ended here, clean, or too short an idle
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 12_000, -1),
                ending(Outcome.LOCAL_ABORT, Initiator.LOCAL, true, false, "", "", 300_000, 0),
                ending(Outcome.CLEAN, Initiator.PEER, true, true, "close_notify", "RECEIVED", 300_000, 0),
                ending(Outcome.RESET, Initiator.PEER, true, false, "", "", 200, 0));
        assertEquals(1, d.size(), d.toString());
        Diagnoses.Diagnosis idle = d.get(0);
        assertEquals("IDLE_TIMEOUT", idle.kind());
        assertEquals("db.example:5432", idle.peer());
        assertEquals(5, idle.connections());
        assertEquals(300.0, idle.figures().get("idleSeconds"));
        assertTrue(idle.hint().startsWith("5 connections to db.example:5432 were ended by the peer side after 300 s (+-2.0 s)"),
                idle.hint());
    }

    @Test
    void twoAgreeingEndingsAreNotEnough() {
        assertTrue(diagnose(ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 60_000, -1),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 60_100, -1),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 90_000, -1)).isEmpty());
    }

    @Test
    void theLargestAgreeingGroupIsTheTimeout() {
        List<Diagnoses.Diagnosis> d = diagnose(
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 60_000, -1),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 61_000, -1),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 62_000, -1),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 63_000, -1),
                ending(Outcome.RESET, Initiator.PEER, true, false, "", "", 600_000, -1),
                ending(Outcome.RESET, Initiator.PEER, true, false, "", "", 601_000, -1),
                ending(Outcome.RESET, Initiator.PEER, true, false, "", "", 602_000, -1));
        assertEquals(1, d.size(), d.toString());
        assertEquals(4, d.get(0).connections());
        assertEquals(61.5, d.get(0).figures().get("idleSeconds"));
    }

    @Test
    void aPeerEndingNoticedLaterIsAStaleReuse() {
        List<Diagnoses.Diagnosis> d = diagnose(
                ending(Outcome.CLEAN, Initiator.PEER, true, true, "close_notify", "RECEIVED", 5_000, 12_000),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 5_000, 10_000),
                // noticed at once or never, or ended here: not a stale reuse
                ending(Outcome.CLEAN, Initiator.PEER, true, true, "close_notify", "RECEIVED", 5_000, 0),
                ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 5_000, -1),
                ending(Outcome.CLEAN, Initiator.LOCAL, true, false, "close_notify", "SENT", 5_000, 9_000),
                // a pool that closed it later without reading or writing (it saw nothing): nothing reused
                saw(ending(Outcome.TRUNCATED, Initiator.PEER, true, false, "", "", 20_000, 7_000), "NOTHING"));
        assertEquals(1, d.size(), d.toString());
        assertEquals("STALE_REUSE", d.get(0).kind());
        assertEquals(2, d.get(0).connections());
        assertEquals(11.0, d.get(0).figures().get("staleSeconds"));
        assertTrue(d.get(0).hint().contains("11 s before the application used them again"), d.get(0).hint());
    }

    @Test
    void fatalAlertsDuringTheHandshakeByAlert() {
        List<Diagnoses.Diagnosis> d = diagnose(
                ending(Outcome.FATAL_ALERT, Initiator.LOCAL, false, false, "certificate_unknown", "SENT", -1, 0),
                ending(Outcome.FATAL_ALERT, Initiator.LOCAL, false, false, "certificate_unknown", "SENT", -1, 0),
                ending(Outcome.FATAL_ALERT, Initiator.PEER, false, false, "handshake_failure", "RECEIVED", -1, 0),
                // after the handshake, or no alert at all: not a handshake failure
                ending(Outcome.FATAL_ALERT, Initiator.PEER, true, false, "unexpected_message", "RECEIVED", 10, 0),
                ending(Outcome.TRUNCATED, Initiator.PEER, false, false, "", "", -1, 0));
        assertEquals(2, d.size(), d.toString());
        assertEquals("HANDSHAKE_FAILURES", d.get(0).kind());
        assertEquals(2, d.get(0).connections());
        assertEquals("certificate_unknown", d.get(0).figures().get("alert"));
        assertEquals("SENT", d.get(0).figures().get("alertDirection"));
        assertEquals("handshake_failure", d.get(1).figures().get("alert"));
    }

    @Test
    void mergedAcrossJvmsTheSameCauseAddsUp() {
        Diagnoses.Diagnosis a = Diagnoses.idleTimeout("db.example:5432", true, new long[] {300_000, 301_000, 302_000});
        Diagnoses.Diagnosis b = Diagnoses.idleTimeout("db.example:5432", true, new long[] {305_000, 306_000, 304_000, 305_500});
        Diagnoses.Diagnosis c = Diagnoses.idleTimeout("db.example:5432", true, new long[] {60_000, 60_000, 60_000});
        List<Diagnoses.Diagnosis> all = new ArrayList<>(List.of(a, b, c));
        List<Diagnoses.Diagnosis> merged = Diagnoses.merge(all, 10);
        assertEquals(2, merged.size(), merged.toString());
        assertEquals(7, merged.get(0).connections());
        assertTrue(merged.get(0).hint().startsWith("7 connections"), merged.get(0).hint());
        assertEquals(3, merged.get(1).connections());
    }

    @Test
    void boundedAndMostFrequentFirst() {
        List<Diagnoses.PeerEvidence> peers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Diagnoses.PeerEvidence p = new Diagnoses.PeerEvidence("h" + i + ":443", true);
            for (int k = 0; k <= i; k++) {
                p.add(ending(Outcome.FATAL_ALERT, Initiator.PEER, false, false, "handshake_failure", "RECEIVED", -1, 0));
            }
            peers.add(p);
        }
        List<Diagnoses.Diagnosis> d = Diagnoses.of(peers, 5);
        assertEquals(5, d.size());
        assertEquals("h19:443", d.get(0).peer());
        assertEquals(20, d.get(0).connections());
    }
}
