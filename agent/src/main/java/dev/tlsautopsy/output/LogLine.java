package dev.tlsautopsy.output;

import dev.tlsautopsy.classify.Ending;
import java.util.Map;

/** An ending as one logfmt line: {@code tls-autopsy: connectionId=7 outcome=TRUNCATED ...}. */
public final class LogLine {

    public static final String PREFIX = "tls-autopsy:";

    private LogLine() {
    }

    public static String format(Ending e) {
        StringBuilder b = new StringBuilder(PREFIX);
        for (Map.Entry<String, Object> f : e.fields().entrySet()) {
            b.append(' ').append(f.getKey()).append('=');
            appendValue(b, String.valueOf(f.getValue()));
        }
        return b.toString();
    }

    static void appendValue(StringBuilder b, String v) {
        boolean quote = v.isEmpty();
        for (int i = 0; i < v.length() && !quote; i++) {
            char c = v.charAt(i);
            quote = c <= ' ' || c == '"' || c == '=' || c == '\\';
        }
        if (!quote) {
            b.append(v);
            return;
        }
        b.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default: b.append(c);
            }
        }
        b.append('"');
    }
}
