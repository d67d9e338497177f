package dev.tlsautopsy.stack.jsse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import dev.tlsautopsy.classify.Publisher;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Tracker;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The JDK stack's rules, driven exactly as its hooks drive them, through the core tracker. */
class JsseReadingTest {

    private final List<Ending> published = new CopyOnWriteArrayList<>();
    private final Tracker tracker = new Tracker(new Publisher() {
        @Override
        public Object started(String api) {
            return null;
        }

        @Override
        public void ended(Ending ending, Object token) {
            published.add(ending);
        }
    });
    private final JsseReading reading = new JsseReading(tracker, new JsseStack(), new JsseAccess());

    private Ending only() {
        assertEquals(1, published.size(), "exactly one record: " + published);
        return published.get(0);
    }

    /** A real, unconnected SSLSocket: close_notify is written at once on a socket, queued on an engine. */
    private static Object socket() throws Exception {
        return javax.net.ssl.SSLSocketFactory.getDefault().createSocket();
    }

    @Test
    void anEarlierLocalCloseNotifyWinsOverAPeerEventReportedFirst() throws Exception {
        Object socket = socket();
        reading.handshakeStarting(socket);
        Evidence close = reading.callEnter(socket, JsseStack.SOCKET_CLOSE, null);
        Object scope = reading.enterAlertScope(socket);
        Evidence token = reading.alertEncoding();          // close_notify starts going out
        reading.peerEof(socket);                          // something seen later is reported first
        reading.alertEncoded(token, 1, 0, null);          // the write finishes
        reading.exitAlertScope(scope);
        reading.callExit(close, JsseStack.SOCKET_CLOSE, 0, null);
        Ending e = only();
        assertEquals(Outcome.CLEAN, e.outcome());
        assertEquals(Initiator.LOCAL, e.initiator());
        assertTrue(e.closeNotifySent());
        assertEquals("close_notify", e.alert());
        assertEquals("SENT", e.alertDirection());
        assertEquals(0, tracker.open());
    }

    @Test
    void aReaderFailureAfterALocalCloseIsNoise() throws Exception {
        Object socket = socket();
        reading.handshakeStarting(socket);
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        Evidence close = reading.callEnter(socket, JsseStack.SOCKET_CLOSE, null);
        reading.fatal(socket, null, new SocketException("Socket closed"), false, false);
        reading.fatalDone(socket);
        Object scope = reading.enterAlertScope(socket);
        reading.alertEncoded(reading.alertEncoding(), 1, 0, null);
        reading.exitAlertScope(scope);
        reading.callExit(close, JsseStack.SOCKET_CLOSE, 0, null);
        reading.callExit(read, JsseStack.SOCKET_READ, 0, new SocketException("Socket closed"));
        Ending e = only();
        assertEquals(Outcome.CLEAN, e.outcome());
        assertEquals(Initiator.LOCAL, e.initiator());
        assertEquals("NOTHING", e.appSaw());
    }

    @Test
    void aSilentTruncationIsWhatTheApplicationReadAsEof() {
        Object socket = new Object();
        reading.handshakeStarting(socket);
        reading.handshakeFinished(socket, null);
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        reading.recordEof(false);
        reading.peerEof(socket);
        reading.callExit(read, JsseStack.SOCKET_READ, -1, null);
        Ending e = only();
        assertEquals(Outcome.TRUNCATED, e.outcome());
        assertEquals(Initiator.PEER, e.initiator());
        assertEquals("EOF", e.appSaw());
        assertTrue(e.handshakeCompleted());
    }

    @Test
    void anEofInsideARecordIsAShortRead() {
        Object socket = new Object();
        reading.handshakeStarting(socket);
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        reading.recordEof(true);
        reading.peerEof(socket);
        reading.callExit(read, JsseStack.SOCKET_READ, -1, null);
        assertEquals(Outcome.SHORT_READ, only().outcome());
    }

    @Test
    void aResetIsWhatTheApplicationSawAsAnException() {
        Object socket = new Object();
        reading.handshakeStarting(socket);
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        SocketException reset = new SocketException("Connection reset");
        reading.fatal(socket, null, reset, false, false);
        reading.fatalDone(socket);
        reading.callExit(read, JsseStack.SOCKET_READ, 0, reset);
        Ending e = only();
        assertEquals(Outcome.RESET, e.outcome());
        assertEquals(Initiator.PEER, e.initiator());
        assertEquals("EXCEPTION", e.appSaw());
        assertEquals("java.net.SocketException: Connection reset", e.exception());
    }

    @Test
    void aReadTimeoutDecidesOnlyWhenTheApplicationClosesNext() {
        Object socket = new Object();
        reading.handshakeStarting(socket);
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        reading.callExit(read, JsseStack.SOCKET_READ, 0, new SocketTimeoutException("Read timed out"));
        assertTrue(published.isEmpty(), "a timeout read past is not an ending");
        Evidence close = reading.callEnter(socket, JsseStack.SOCKET_CLOSE, null);
        reading.callExit(close, JsseStack.SOCKET_CLOSE, 0, null);
        assertEquals(Outcome.TIMEOUT, only().outcome());
        assertEquals(Initiator.LOCAL, only().initiator());
        assertEquals("EXCEPTION", only().appSaw());
        assertEquals("java.net.SocketTimeoutException: Read timed out", only().exception());
    }

    @Test
    void aTimeoutReadPastIsForgotten() {
        Object socket = new Object();
        reading.handshakeStarting(socket);
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        reading.callExit(read, JsseStack.SOCKET_READ, 0, new SocketTimeoutException("Read timed out"));
        read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        reading.callExit(read, JsseStack.SOCKET_READ, 10, null);
        Evidence close = reading.callEnter(socket, JsseStack.SOCKET_CLOSE, null);
        reading.callExit(close, JsseStack.SOCKET_CLOSE, 0, null);
        assertEquals(Outcome.LOCAL_ABORT, only().outcome(), "closed without close_notify, not a timeout");
    }

    @Test
    void anEngineThatRemembersItsEvidenceIsNotLookedUp() throws Exception {
        Object engine = javax.net.ssl.SSLContext.getDefault().createSSLEngine();
        Object other = javax.net.ssl.SSLContext.getDefault().createSSLEngine();
        Evidence remembered = reading.callEnter(other, JsseStack.ENGINE_WRAP, null);
        reading.engineResult(other, remembered, JsseStack.ENGINE_WRAP, null, null, 0, 1, null);
        // what the engine remembers is its connection: used as it is, nothing looked up or created for it
        Evidence ev = reading.callEnter(engine, JsseStack.ENGINE_UNWRAP, remembered);
        assertTrue(ev == remembered);
        reading.engineResult(engine, ev, JsseStack.ENGINE_UNWRAP, null, null, 0, 1, null);
        assertEquals(null, tracker.find(engine));
        // without it, the engine is found by its identity (and, where its class has the field, remembers it)
        assertTrue(reading.callEnter(other, JsseStack.ENGINE_WRAP, null) == remembered);
    }

    @Test
    void laterEventsNeverMakeASecondRecord() {
        Object socket = new Object();
        reading.handshakeStarting(socket);
        reading.peerEof(socket);
        reading.fatal(socket, null, new SocketException("Connection reset"), false, false);
        Evidence close = reading.callEnter(socket, JsseStack.SOCKET_CLOSE, null);
        reading.callExit(close, JsseStack.SOCKET_CLOSE, 0, null);
        tracker.flush();
        assertEquals(Outcome.TRUNCATED, only().outcome());
    }

    @Test
    void aConnectionThatNeverStartedLeavesNoRecord() {
        Object socket = new Object();
        Evidence read = reading.callEnter(socket, JsseStack.SOCKET_READ, null);
        reading.callExit(read, JsseStack.SOCKET_READ, 0, new SocketException("Socket is closed"));
        Evidence close = reading.callEnter(socket, JsseStack.SOCKET_CLOSE, null);
        reading.callExit(close, JsseStack.SOCKET_CLOSE, 0, null);
        tracker.flush();
        assertTrue(published.isEmpty(), published.toString());
        assertEquals(0, tracker.open());
    }

    @Test
    void aLocalFatalWithNoAlertIsAnError() {
        Object engine = new Object();
        reading.handshakeStarting(engine);
        reading.fatal(engine, null, new IllegalStateException("boom"), false, false);
        reading.fatalDone(engine);
        assertEquals(Outcome.ERROR, only().outcome());
    }

    @Test
    void exceptionTextNeverCarriesTheBytesReceived() {
        assertEquals("javax.net.ssl.SSLException: not an SSL/TLS record: <10 bytes elided>",
                dev.tlsautopsy.classify.ExceptionText.of(new javax.net.ssl.SSLException("not an SSL/TLS record: 474554202f2048545450")));
        assertEquals("javax.net.ssl.SSLException: Tag mismatch!", dev.tlsautopsy.classify.ExceptionText.of(new javax.net.ssl.SSLException("Tag mismatch!")));
        assertEquals("java.net.SocketException: Connection reset by peer",
                dev.tlsautopsy.classify.ExceptionText.of(new SocketException("Connection reset by peer")));
    }

    @Test
    void aDroppedConnectionIsAbandonedAfterCollection() throws Exception {
        startAndDrop();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (published.isEmpty() && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        Ending e = only();
        assertEquals(Outcome.ABANDONED, e.outcome());
        assertEquals(0, tracker.open());
    }

    private void startAndDrop() {
        reading.handshakeStarting(new Object());
        assertEquals(1, tracker.open());
    }
}
