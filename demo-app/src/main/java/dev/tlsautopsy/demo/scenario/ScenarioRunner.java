package dev.tlsautopsy.demo.scenario;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs scenarios one after another and pairs each with the records it produced. */
public final class ScenarioRunner {

    /** One scenario's run: what each side's application saw and what tls-autopsy recorded. */
    public static final class Result {
        public final Scenario scenario;
        public final Env.Api api;
        public final String protocol;
        public List<String> clientTrace = List.of();
        public List<String> serverTrace = List.of();
        public Expect clientExpect;
        public Expect serverExpect;
        public Map<String, Object> clientRecord;
        public Map<String, Object> serverRecord;
        public final List<Map<String, Object>> extraRecords = new ArrayList<>();
        public String error = "";

        public Result(Scenario scenario, Env.Api api, String protocol) {
            this.scenario = scenario;
            this.api = api;
            this.protocol = protocol;
        }

        public static String check(Expect expect, Map<String, Object> record) {
            if (expect == null) {
                return record == null ? "" : "unexpected record";
            }
            return expect.any() ? (record == null ? "no record" : "") : expect.mismatches(record);
        }

        public String clientMismatch() {
            return check(clientExpect, clientRecord);
        }

        public String serverMismatch() {
            return check(serverExpect, serverRecord);
        }

        public boolean passed() {
            return error.isEmpty() && extraRecords.isEmpty() && clientMismatch().isEmpty() && serverMismatch().isEmpty();
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("scenario", scenario.name);
            m.put("api", api.name());
            m.put("protocol", protocol);
            m.put("error", error);
            m.put("clientTrace", clientTrace);
            m.put("serverTrace", serverTrace);
            m.put("clientExpect", clientExpect == null ? null : clientExpect.fields());
            m.put("serverExpect", serverExpect == null ? null : serverExpect.fields());
            m.put("clientRecord", clientRecord);
            m.put("serverRecord", serverRecord);
            m.put("extraRecords", extraRecords);
            m.put("clientMismatch", clientMismatch());
            m.put("serverMismatch", serverMismatch());
            return m;
        }
    }

    /** How long to wait for a scenario's records; bounded so that a missing record fails, not hangs. */
    public static final long RECORD_WAIT_MILLIS = Long.getLong("scenario.recordWaitMillis", 10_000);

    private final Records records;
    private final TlsContexts tls;

    public ScenarioRunner(Records records, TlsContexts tls) {
        this.records = records;
        this.tls = tls;
    }

    public Result run(Scenario s, Env.Api api, String protocol) {
        Result r = new Result(s, api, protocol);
        Env env = new Env(api, protocol, tls);
        env.records = records;
        env.recordsBefore = records.count();
        try {
            s.body.run(env);
        } catch (Exception e) {
            r.error = e.toString();
        } finally {
            env.close();
        }
        r.clientTrace = env.clientTrace;
        r.serverTrace = env.serverTrace;
        r.clientExpect = s.client.apply(env);
        r.serverExpect = s.server.apply(env);
        if (records.agentPresent()) {
            int expected = (r.clientExpect == null ? 0 : 1) + (r.serverExpect == null ? 0 : 1);
            try {
                records.awaitCount(env.recordsBefore + expected, RECORD_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (Map<String, Object> rec : records.since(env.recordsBefore)) {
                boolean client = "CLIENT".equals(rec.get("role"));
                if (client && r.clientRecord == null && r.clientExpect != null) {
                    r.clientRecord = rec;
                } else if (!client && r.serverRecord == null && r.serverExpect != null) {
                    r.serverRecord = rec;
                } else {
                    r.extraRecords.add(rec);
                }
            }
        }
        return r;
    }

    public static List<Object> toMaps(List<Result> results) {
        List<Object> out = new ArrayList<>();
        for (Result r : results) {
            out.add(r.toMap());
        }
        return out;
    }
}
