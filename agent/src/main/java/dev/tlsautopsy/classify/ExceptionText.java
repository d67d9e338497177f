package dev.tlsautopsy.classify;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code exception} field of a record: {@code class: message}, never carrying received bytes. */
public final class ExceptionText {

    private static final Pattern HEX_DUMP = Pattern.compile("[0-9a-fA-F]{16,}");

    private ExceptionText() {
    }

    /**
     * {@code class: message}, with hex dumps elided: some stacks put the bytes they received in the
     * message (Netty's "not an SSL/TLS record: 474554..." is the peer's plaintext), and no record may
     * carry plaintext.
     */
    public static String of(Throwable t) {
        String m = t.getMessage();
        if (m == null) {
            return t.getClass().getName();
        }
        Matcher hex = HEX_DUMP.matcher(m);
        StringBuilder b = new StringBuilder(t.getClass().getName()).append(": ");
        int last = 0;
        while (hex.find()) {
            b.append(m, last, hex.start()).append("<").append(hex.group().length() / 2).append(" bytes elided>");
            last = hex.end();
        }
        return b.append(m, last, m.length()).toString();
    }
}
