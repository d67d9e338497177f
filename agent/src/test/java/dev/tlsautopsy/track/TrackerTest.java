package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tlsautopsy.bootstrap.Hooks;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The tracker's rules, driven through the Sink interface exactly as the hooks drive it. */
class TrackerTest {

    private final List<Ending> published = new CopyOnWriteArrayList<>();
    private final Tracker tracker = new Tracker(new Tracker.Publisher() {
        @Override
        public Object started() {
            return null;
        }

        @Override
        public void ended(Ending ending, Object token) {
            published.add(ending);
        }
    });

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
        tracker.handshakeStarting(socket);
        Object close = tracker.callEnter(socket, Hooks.SOCKET_CLOSE);
        Object scope = tracker.enterAlertScope(socket);
        Object token = tracker.alertEncoding();          // close_notify starts going out
        tracker.peerEof(socket);                          // something seen later is reported first
        tracker.alertEncoded(token, 1, 0, null);          // the write finishes
        tracker.exitAlertScope(scope);
        tracker.callExit(close, Hooks.SOCKET_CLOSE, 0, null);
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
        tracker.handshakeStarting(socket);
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        Object close = tracker.callEnter(socket, Hooks.SOCKET_CLOSE);
        tracker.fatal(socket, null, new SocketException("Socket closed"), false, false);
        tracker.fatalDone(socket);
        Object scope = tracker.enterAlertScope(socket);
        tracker.alertEncoded(tracker.alertEncoding(), 1, 0, null);
        tracker.exitAlertScope(scope);
        tracker.callExit(close, Hooks.SOCKET_CLOSE, 0, null);
        tracker.callExit(read, Hooks.SOCKET_READ, 0, new SocketException("Socket closed"));
        Ending e = only();
        assertEquals(Outcome.CLEAN, e.outcome());
        assertEquals(Initiator.LOCAL, e.initiator());
        assertEquals("NOTHING", e.appSaw());
    }

    @Test
    void aSilentTruncationIsWhatTheApplicationReadAsEof() {
        Object socket = new Object();
        tracker.handshakeStarting(socket);
        tracker.handshakeFinished(socket, null);
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        tracker.recordEof(false);
        tracker.peerEof(socket);
        tracker.callExit(read, Hooks.SOCKET_READ, -1, null);
        Ending e = only();
        assertEquals(Outcome.TRUNCATED, e.outcome());
        assertEquals(Initiator.PEER, e.initiator());
        assertEquals("EOF", e.appSaw());
        assertTrue(e.handshakeCompleted());
    }

    @Test
    void anEofInsideARecordIsAShortRead() {
        Object socket = new Object();
        tracker.handshakeStarting(socket);
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        tracker.recordEof(true);
        tracker.peerEof(socket);
        tracker.callExit(read, Hooks.SOCKET_READ, -1, null);
        assertEquals(Outcome.SHORT_READ, only().outcome());
    }

    @Test
    void aResetIsWhatTheApplicationSawAsAnException() {
        Object socket = new Object();
        tracker.handshakeStarting(socket);
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        SocketException reset = new SocketException("Connection reset");
        tracker.fatal(socket, null, reset, false, false);
        tracker.fatalDone(socket);
        tracker.callExit(read, Hooks.SOCKET_READ, 0, reset);
        Ending e = only();
        assertEquals(Outcome.RESET, e.outcome());
        assertEquals(Initiator.PEER, e.initiator());
        assertEquals("EXCEPTION", e.appSaw());
        assertEquals("java.net.SocketException: Connection reset", e.exception());
    }

    @Test
    void aReadTimeoutDecidesOnlyWhenTheApplicationClosesNext() {
        Object socket = new Object();
        tracker.handshakeStarting(socket);
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        tracker.callExit(read, Hooks.SOCKET_READ, 0, new SocketTimeoutException("Read timed out"));
        assertTrue(published.isEmpty(), "a timeout read past is not an ending");
        Object close = tracker.callEnter(socket, Hooks.SOCKET_CLOSE);
        tracker.callExit(close, Hooks.SOCKET_CLOSE, 0, null);
        assertEquals(Outcome.TIMEOUT, only().outcome());
        assertEquals(Initiator.LOCAL, only().initiator());
        assertEquals("EXCEPTION", only().appSaw());
        assertEquals("java.net.SocketTimeoutException: Read timed out", only().exception());
    }

    @Test
    void aTimeoutReadPastIsForgotten() {
        Object socket = new Object();
        tracker.handshakeStarting(socket);
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        tracker.callExit(read, Hooks.SOCKET_READ, 0, new SocketTimeoutException("Read timed out"));
        read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        tracker.callExit(read, Hooks.SOCKET_READ, 10, null);
        Object close = tracker.callEnter(socket, Hooks.SOCKET_CLOSE);
        tracker.callExit(close, Hooks.SOCKET_CLOSE, 0, null);
        assertEquals(Outcome.LOCAL_ABORT, only().outcome(), "closed without close_notify, not a timeout");
    }

    @Test
    void laterEventsNeverMakeASecondRecord() {
        Object socket = new Object();
        tracker.handshakeStarting(socket);
        tracker.peerEof(socket);
        tracker.fatal(socket, null, new SocketException("Connection reset"), false, false);
        Object close = tracker.callEnter(socket, Hooks.SOCKET_CLOSE);
        tracker.callExit(close, Hooks.SOCKET_CLOSE, 0, null);
        tracker.flush();
        assertEquals(Outcome.TRUNCATED, only().outcome());
    }

    @Test
    void aConnectionThatNeverStartedLeavesNoRecord() {
        Object socket = new Object();
        Object read = tracker.callEnter(socket, Hooks.SOCKET_READ);
        tracker.callExit(read, Hooks.SOCKET_READ, 0, new SocketException("Socket is closed"));
        Object close = tracker.callEnter(socket, Hooks.SOCKET_CLOSE);
        tracker.callExit(close, Hooks.SOCKET_CLOSE, 0, null);
        tracker.flush();
        assertTrue(published.isEmpty(), published.toString());
        assertEquals(0, tracker.open());
    }

    @Test
    void aLocalFatalWithNoAlertIsAnError() {
        Object engine = new Object();
        tracker.handshakeStarting(engine);
        tracker.fatal(engine, null, new IllegalStateException("boom"), false, false);
        tracker.fatalDone(engine);
        assertEquals(Outcome.ERROR, only().outcome());
    }

    @Test
    void exceptionTextNeverCarriesTheBytesReceived() {
        assertEquals("javax.net.ssl.SSLException: not an SSL/TLS record: <10 bytes elided>",
                Tracker.describe(new javax.net.ssl.SSLException("not an SSL/TLS record: 474554202f2048545450")));
        assertEquals("javax.net.ssl.SSLException: Tag mismatch!", Tracker.describe(new javax.net.ssl.SSLException("Tag mismatch!")));
        assertEquals("java.net.SocketException: Connection reset by peer",
                Tracker.describe(new SocketException("Connection reset by peer")));
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
        tracker.handshakeStarting(new Object());
        assertEquals(1, tracker.open());
    }
}
