package dev.tlsautopsy.demo.scenario;

import java.util.LinkedHashMap;
import java.util.Map;

/** What one side's ending record should say: the outcome, the initiator and any other fields named. */
public final class Expect {

    private final Map<String, String> fields = new LinkedHashMap<>();
    private final boolean any;

    private Expect(boolean any) {
        this.any = any;
    }

    public static Expect of(String outcome, String initiator) {
        Expect e = new Expect(false);
        e.fields.put("outcome", outcome);
        e.fields.put("initiator", initiator);
        return e;
    }

    /** A record must exist, whatever it says (an ending decided by a race the scenario does not control). */
    public static Expect anyRecord() {
        return new Expect(true);
    }

    /** {@code value} may list alternatives separated by {@code |}. */
    public Expect with(String field, Object value) {
        fields.put(field, String.valueOf(value));
        return this;
    }

    public Map<String, String> fields() {
        return fields;
    }

    public boolean any() {
        return any;
    }

    public String outcome() {
        return any ? "(any)" : fields.get("outcome");
    }

    /** The fields of {@code record} that differ from this expectation, as {@code name=observed (expected X)}. */
    public String mismatches(Map<String, Object> record) {
        if (record == null) {
            return "no record";
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            String observed = String.valueOf(record.get(f.getKey()));
            if (!java.util.Arrays.asList(f.getValue().split("\\|")).contains(observed)) {
                b.append(b.length() == 0 ? "" : ", ").append(f.getKey()).append('=').append(observed)
                        .append(" (expected ").append(f.getValue()).append(')');
            }
        }
        return b.toString();
    }
}
