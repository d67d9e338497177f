package dev.tlsautopsy.classify;

/** Where finished ending records go (the outputs); the core tracker calls it. */
public interface Publisher {

    /**
     * Called once per started connection ({@code api}: its record's api); may return an object to keep
     * until its ending (a JFR event).
     */
    Object started(String api);

    void ended(Ending ending, Object startedToken);

    /** A started connection's record turned out to be another api's (its open count moves with it). */
    default void moved(String fromApi, String toApi) {
    }
}
