package dev.tlsautopsy.classify;

/** The side that produced the decisive event. */
public enum Initiator {
    LOCAL, PEER, UNKNOWN
}
