package dev.tlsautopsy.classify;

/**
 * The meaning of a decisive event: the outcome, who caused it, and the alert involved.
 *
 * @param alert          RFC alert name, empty if none
 * @param alertDirection {@code SENT}, {@code RECEIVED} or empty
 */
public record Verdict(Outcome outcome, Initiator initiator, String alert, String alertDirection) {

    public static final String SENT = "SENT", RECEIVED = "RECEIVED";

    public static Verdict of(Outcome outcome, Initiator initiator) {
        return new Verdict(outcome, initiator, "", "");
    }
}
