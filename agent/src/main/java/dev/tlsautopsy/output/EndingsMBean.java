package dev.tlsautopsy.output;

/**
 * {@code dev.tlsautopsy:type=Endings}: finished and open connections and one count per outcome
 * (handshake-completed and not together). Each ending is also sent as a notification of type
 * {@value Endings#NOTIFICATION_TYPE} whose user data is a map of the record's fields.
 */
public interface EndingsMBean {
    long getConnections();

    long getOpen();

    long getCLEAN();

    long getTRUNCATED();

    long getSHORT_READ();

    long getBAD_RECORD_MAC();

    long getRESET();

    long getFATAL_ALERT();

    long getLOCAL_ABORT();

    long getTIMEOUT();

    long getABANDONED();

    long getERROR();
}
