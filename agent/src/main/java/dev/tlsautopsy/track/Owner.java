package dev.tlsautopsy.track;

/** The TLS stack a connection belongs to, as the core sees it. */
public interface Owner {

    /** Fills in the role and the peer when the connection starts; {@code transport} is what started it. */
    void describe(Evidence ev, Object transport);

    /** True while the record must wait although it is decided (unless forced at collection or exit). */
    default boolean holds(Evidence ev) {
        return false;
    }

    /**
     * For a connection adopted at an attach: the application call of this stack that the current thread is
     * inside although the agent never saw it begin (it began before the attach), or null. Its result is
     * what the application will be shown.
     */
    default String callInFlight(Evidence ev) {
        return null;
    }
}
