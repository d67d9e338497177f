package dev.tlsautopsy.classify;

/** How a TLS connection ended (SPEC section 3). The order is the order of every report. */
public enum Outcome {
    CLEAN, TRUNCATED, SHORT_READ, BAD_RECORD_MAC, RESET, FATAL_ALERT, LOCAL_ABORT, TIMEOUT, ABANDONED, ERROR;

    private static final Outcome[] ALL = values();

    public static Outcome[] all() {
        return ALL;
    }

    public boolean clean() {
        return this == CLEAN;
    }
}
