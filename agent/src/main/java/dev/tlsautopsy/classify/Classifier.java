package dev.tlsautopsy.classify;

/**
 * What each decisive event means. Pure: no state, no I/O, no bytecode; the tracker decides which
 * event came first and asks here what it means. A {@code null} verdict means "not decisive".
 */
public final class Classifier {

    private Classifier() {
    }

    /** The peer's alert arrived. Warnings other than close_notify decide nothing by themselves. */
    public static Verdict alertReceived(int level, int description) {
        return alert(level, description, Initiator.PEER, Verdict.RECEIVED);
    }

    /** This side wrote an alert (for an SSLEngine: queued it for the next wrap). */
    public static Verdict alertSent(int level, int description) {
        return alert(level, description, Initiator.LOCAL, Verdict.SENT);
    }

    private static Verdict alert(int level, int description, Initiator side, String direction) {
        int id = description & 0xFF;
        if (id == AlertNames.CLOSE_NOTIFY) {
            return new Verdict(Outcome.CLEAN, side, AlertNames.of(id), direction);
        }
        if (level != AlertNames.LEVEL_FATAL) {
            return null;
        }
        Outcome outcome = isBadRecordMac(id) ? Outcome.BAD_RECORD_MAC : Outcome.FATAL_ALERT;
        return new Verdict(outcome, side, AlertNames.of(id), direction);
    }

    private static boolean isBadRecordMac(int id) {
        // decryption_failed (21) is the pre-TLS 1.1 spelling of the same failure
        return id == AlertNames.BAD_RECORD_MAC || id == 21;
    }

    /** The peer's transport ended without close_notify, at a record boundary or inside a record. */
    public static Verdict peerEof(boolean midRecord) {
        return Verdict.of(midRecord ? Outcome.SHORT_READ : Outcome.TRUNCATED, Initiator.PEER);
    }

    /**
     * The transport below TLS failed. A failure that follows a local close already under way is the
     * close's own echo ("Socket closed" in a reader thread) and decides nothing.
     */
    public static Verdict transportFailure(TransportFailure failure, boolean localCloseUnderway) {
        if (localCloseUnderway) {
            return null;
        }
        switch (failure) {
            case RESET: return Verdict.of(Outcome.RESET, Initiator.PEER);
            case LOCALLY_CLOSED: return Verdict.of(Outcome.LOCAL_ABORT, Initiator.LOCAL);
            case TIMED_OUT: return Verdict.of(Outcome.TIMEOUT, Initiator.LOCAL);
            case EOF: return peerEof(false);
            default: return null;
        }
    }

    /**
     * A local fatal error after which no alert was written or read: the alert the JDK meant to send
     * (its RFC name) still tells a bad record MAC apart; anything else is a local error.
     */
    public static Verdict fatalWithoutAlert(String intendedAlert) {
        if ("bad_record_mac".equals(intendedAlert)) {
            return new Verdict(Outcome.BAD_RECORD_MAC, Initiator.LOCAL, intendedAlert, "");
        }
        return Verdict.of(Outcome.ERROR, Initiator.LOCAL);
    }

    /** The application closes after a read or handshake timeout with no successful I/O since. */
    public static Verdict closeAfterTimeout() {
        return Verdict.of(Outcome.TIMEOUT, Initiator.LOCAL);
    }

    /** The application's close finished without close_notify being written and nothing else decided. */
    public static Verdict closeWithoutCloseNotify() {
        return Verdict.of(Outcome.LOCAL_ABORT, Initiator.LOCAL);
    }

    /** The connection was closed by the JDK 17 Finalizer thread, or garbage-collected undecided. */
    public static Verdict abandoned() {
        return Verdict.of(Outcome.ABANDONED, Initiator.LOCAL);
    }
}
