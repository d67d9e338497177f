package dev.tlsautopsy.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The classifier's whole truth table. */
class ClassifierTest {

    @ParameterizedTest(name = "received level {0} description {1} -> {2}/{3} {4}")
    @CsvSource({
        "1, 0,   CLEAN,          PEER, close_notify",
        "2, 0,   CLEAN,          PEER, close_notify",
        "2, 20,  BAD_RECORD_MAC, PEER, bad_record_mac",
        "2, 21,  BAD_RECORD_MAC, PEER, decryption_failed",
        "2, 46,  FATAL_ALERT,    PEER, certificate_unknown",
        "2, 40,  FATAL_ALERT,    PEER, handshake_failure",
        "2, 10,  FATAL_ALERT,    PEER, unexpected_message",
        "2, 90,  FATAL_ALERT,    PEER, user_canceled",
        "2, 200, FATAL_ALERT,    PEER, alert_200",
    })
    void alertsReceived(int level, int description, Outcome outcome, Initiator initiator, String alert) {
        Verdict v = Classifier.alertReceived(level, description);
        assertEquals(new Verdict(outcome, initiator, alert, "RECEIVED"), v);
        Verdict sent = Classifier.alertSent(level, description);
        assertEquals(new Verdict(outcome, Initiator.LOCAL, alert, "SENT"), sent);
    }

    @ParameterizedTest(name = "warning {0} decides nothing")
    @CsvSource({"90", "100", "41", "112"})
    void warningsDecideNothing(int description) {
        assertNull(Classifier.alertReceived(1, description));
        assertNull(Classifier.alertSent(1, description));
    }

    @Test
    void peerEof() {
        assertEquals(Verdict.of(Outcome.TRUNCATED, Initiator.PEER), Classifier.peerEof(false));
        assertEquals(Verdict.of(Outcome.SHORT_READ, Initiator.PEER), Classifier.peerEof(true));
    }

    @ParameterizedTest(name = "{0} -> {1}/{2}")
    @CsvSource({
        "RESET,          RESET,       PEER",
        "LOCALLY_CLOSED, LOCAL_ABORT, LOCAL",
        "TIMED_OUT,      TIMEOUT,     LOCAL",
        "EOF,            TRUNCATED,   PEER",
    })
    void transportFailures(TransportFailure failure, Outcome outcome, Initiator initiator) {
        assertEquals(Verdict.of(outcome, initiator), Classifier.transportFailure(failure, false));
        assertNull(Classifier.transportFailure(failure, true), "noise after a local close");
    }

    @Test
    void unknownTransportFailureDecidesNothing() {
        assertNull(Classifier.transportFailure(TransportFailure.OTHER, false));
    }

    @Test
    void localFatalWithoutAlert() {
        assertEquals(new Verdict(Outcome.BAD_RECORD_MAC, Initiator.LOCAL, "bad_record_mac", ""),
                Classifier.fatalWithoutAlert("bad_record_mac"));
        assertEquals(Verdict.of(Outcome.ERROR, Initiator.LOCAL), Classifier.fatalWithoutAlert("internal_error"));
        assertEquals(Verdict.of(Outcome.ERROR, Initiator.LOCAL), Classifier.fatalWithoutAlert(""));
    }

    @Test
    void localEndings() {
        assertEquals(Verdict.of(Outcome.TIMEOUT, Initiator.LOCAL), Classifier.closeAfterTimeout());
        assertEquals(Verdict.of(Outcome.LOCAL_ABORT, Initiator.LOCAL), Classifier.closeWithoutCloseNotify());
        assertEquals(Verdict.of(Outcome.ABANDONED, Initiator.LOCAL), Classifier.abandoned());
    }

    @Test
    void transportFailureFromExceptions() {
        assertEquals(TransportFailure.RESET, TransportFailure.of(new SocketException("Connection reset")));
        assertEquals(TransportFailure.RESET, TransportFailure.of(new SocketException("Connection reset by peer")));
        assertEquals(TransportFailure.RESET, TransportFailure.of(new IOException("Broken pipe")));
        assertEquals(TransportFailure.LOCALLY_CLOSED, TransportFailure.of(new SocketException("Socket closed")));
        assertEquals(TransportFailure.LOCALLY_CLOSED, TransportFailure.of(new AsynchronousCloseException()));
        assertEquals(TransportFailure.LOCALLY_CLOSED, TransportFailure.of(new ClosedChannelException()));
        assertEquals(TransportFailure.TIMED_OUT, TransportFailure.of(new SocketTimeoutException("Read timed out")));
        assertEquals(TransportFailure.EOF, TransportFailure.of(new EOFException("SSL peer shut down incorrectly")));
        assertEquals(TransportFailure.OTHER, TransportFailure.of(new SSLException("Tag mismatch")));
        assertEquals(TransportFailure.OTHER, TransportFailure.of(new SocketException("Connection or inbound has closed")));
        assertEquals(TransportFailure.RESET,
                TransportFailure.of(new SSLException("wrapped", new SocketException("Connection reset"))));
        assertEquals(TransportFailure.OTHER, TransportFailure.of(null));
    }

    @Test
    void alertNames() {
        assertEquals("bad_record_mac", AlertNames.of(20));
        assertEquals("certificate_unknown", AlertNames.of(46));
        assertEquals("no_application_protocol", AlertNames.of(120));
        assertEquals("bad_record_mac", AlertNames.ofEnumName("BAD_RECORD_MAC"));
        assertEquals("certificate_unobtainable", AlertNames.ofEnumName("CERT_UNOBTAINABLE"));
        assertEquals("bad_certificate_status_response", AlertNames.ofEnumName("BAD_CERT_STATUS_RESPONSE"));
    }
}
