package dev.tlsautopsy.output;

/**
 * {@code dev.tlsautopsy:type=Endings} and, per api, {@code dev.tlsautopsy:type=Endings,api=SSLSocket} (and
 * {@code SSLEngine}, {@code Netty}): finished and open connections and one count per outcome
 * (handshake-completed and not together). Each ending is also sent as a notification of type
 * {@value Endings#NOTIFICATION_TYPE} whose user data is a map of the record's fields. {@code Diagnoses}: the
 * diagnoses of every api's records so far (SPEC section 5), one line each: kind, peer, then the hint.
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

    String[] getDiagnoses();
}
