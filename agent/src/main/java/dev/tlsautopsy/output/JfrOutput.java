package dev.tlsautopsy.output;

import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Outcome;
import java.util.function.LongSupplier;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

/** Commits the JFR events. The event classes stay in the agent's loader (see notes on JDK 25). */
final class JfrOutput {

    private volatile boolean enabledProbe = true;

    /**
     * An event begun for a starting connection, or null. Nothing of JFR's is touched until Flight Recorder
     * has been initialised (by a recording): loading an event class costs tens of milliseconds, which
     * would land on the application's first connection.
     */
    Object started() {
        if (!enabledProbe || !FlightRecorder.isInitialized()) {
            return null;
        }
        ConnectionEndEvent e = new ConnectionEndEvent();
        if (!e.isEnabled()) {
            return null;
        }
        e.begin();
        return e;
    }

    void ended(Ending r, Object token) {
        if (token == null && !FlightRecorder.isInitialized()) {
            return;
        }
        ConnectionEndEvent e = token instanceof ConnectionEndEvent ? (ConnectionEndEvent) token : new ConnectionEndEvent();
        if (!e.isEnabled()) {
            return;
        }
        e.connectionId = r.connectionId();
        e.outcome = r.outcome().name();
        e.initiator = r.initiator().name();
        e.handshakeCompleted = r.handshakeCompleted();
        e.closeNotifySent = r.closeNotifySent();
        e.closeNotifyReceived = r.closeNotifyReceived();
        e.alert = r.alert();
        e.alertDirection = r.alertDirection();
        e.appSaw = r.appSaw();
        e.exception = r.exception();
        e.api = r.api();
        e.implementation = r.implementation();
        e.role = r.role();
        e.peerHost = r.peerHost();
        e.peerPort = r.peerPort();
        e.localPort = r.localPort();
        e.protocol = r.protocol();
        e.cipherSuite = r.cipherSuite();
        e.bytesIn = r.bytesIn();
        e.bytesOut = r.bytesOut();
        e.durationMillis = r.durationMillis();
        e.idleMillis = r.idleMillis();
        e.noticedAfterMillis = r.noticedAfterMillis();
        e.commit();
    }

    /**
     * Registers the periodic statistics event once Flight Recorder is initialised (by a recording, now or
     * later): registering it earlier would initialise Flight Recorder in every JVM, JFR used or not.
     */
    void registerStatistics(Stats stats, LongSupplier open) {
        FlightRecorder.addListener(new FlightRecorderListener() {
            @Override
            public void recorderInitialized(FlightRecorder recorder) {
                FlightRecorder.addPeriodicEvent(EndingStatisticsEvent.class, () -> commitStatistics(stats, open));
            }
        });
    }

    /** One statistics event now (periodically, and once at exit so every recording ends with the final counts). */
    static void commitStatistics(Stats stats, LongSupplier open) {
        if (!FlightRecorder.isInitialized()) {
            return;     // loading the event class costs JFR's set-up, and no recording could take it
        }
        EndingStatisticsEvent e = new EndingStatisticsEvent();
        if (!e.isEnabled()) {
            return;
        }
        e.connections = stats.connections();
        e.open = open.getAsLong();
        e.clean = stats.count(Outcome.CLEAN);
        e.truncated = stats.count(Outcome.TRUNCATED);
        e.shortRead = stats.count(Outcome.SHORT_READ);
        e.badRecordMac = stats.count(Outcome.BAD_RECORD_MAC);
        e.reset = stats.count(Outcome.RESET);
        e.fatalAlert = stats.count(Outcome.FATAL_ALERT);
        e.localAbort = stats.count(Outcome.LOCAL_ABORT);
        e.timeout = stats.count(Outcome.TIMEOUT);
        e.abandoned = stats.count(Outcome.ABANDONED);
        e.error = stats.count(Outcome.ERROR);
        e.commit();
    }
}
