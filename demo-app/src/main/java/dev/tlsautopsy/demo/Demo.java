package dev.tlsautopsy.demo;

import dev.tlsautopsy.demo.scenario.DiagnosisScenarios;
import dev.tlsautopsy.demo.scenario.Env;
import dev.tlsautopsy.demo.scenario.Expect;
import dev.tlsautopsy.demo.scenario.Records;
import dev.tlsautopsy.demo.scenario.Scenario;
import dev.tlsautopsy.demo.scenario.ScenarioRunner;
import dev.tlsautopsy.demo.scenario.Scenarios;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every scenario over loopback for SSLSocket and SSLEngine and prints, per scenario, API and
 * side, the outcome expected and the outcome tls-autopsy observed.
 * {@code java -javaagent:agent/target/tls-autopsy-agent.jar -jar demo-app/target/tls-autopsy-demo.jar [--tls12] [SCENARIO...]}
 */
public final class Demo {

    private Demo() {
    }

    public static void main(String[] args) throws Exception {
        List<String> only = new ArrayList<>();
        List<String> protocols = new ArrayList<>(List.of("TLSv1.3"));
        for (String a : args) {
            if (a.equals("--tls12")) {
                protocols.add("TLSv1.2");
            } else if (a.equals("--help")) {
                System.out.println("usage: java -javaagent:agent/target/tls-autopsy-agent.jar -jar "
                        + "demo-app/target/tls-autopsy-demo.jar [--tls12] [SCENARIO...]");
                for (Scenario s : Scenarios.all()) {
                    System.out.printf("  %-24s %s%n", s.name, s.title);
                }
                for (DiagnosisScenarios.Spec s : DiagnosisScenarios.ALL) {
                    System.out.printf("  %-24s %s (%s)%n", s.name(), s.title(), s.kind());
                }
                return;
            } else {
                only.add(a);
            }
        }
        Records records = Records.subscribe(10_000);
        if (!records.agentPresent()) {
            System.out.println("tls-autopsy is not loaded, so there is nothing to observe. Run the demo with the agent:");
            System.out.println("  java -javaagent:agent/target/tls-autopsy-agent.jar -jar demo-app/target/tls-autopsy-demo.jar");
            System.out.println("(build both with: mvn -B -q package -DskipTests)");
            System.exit(2);
        }
        ScenarioRunner runner = new ScenarioRunner(records, new TlsContexts());
        System.out.printf("%-24s %-10s %-8s %-7s %-15s %-15s %s%n", "scenario", "api", "tls", "side", "expected",
                "observed", "");
        int failed = 0;
        List<String> hints = new ArrayList<>();
        for (String protocol : protocols) {
            for (Env.Api api : Env.Api.covered()) {
                for (Scenario s : Scenarios.all()) {
                    if (!s.appliesTo(api) || (!only.isEmpty() && !only.contains(s.name))) {
                        continue;
                    }
                    ScenarioRunner.Result r = runner.run(s, api, protocol);
                    failed += row(r, "client", r.clientExpect, r.clientRecord, r.clientMismatch());
                    failed += row(r, "server", r.serverExpect, r.serverRecord, r.serverMismatch());
                    if (!r.error.isEmpty()) {
                        System.out.println("    error: " + r.error);
                    }
                    if (s.hint != null && !hints.contains(s.name + ": " + s.hint)) {
                        hints.add(s.name + ": " + s.hint);
                    }
                }
            }
        }
        for (DiagnosisScenarios.Spec s : DiagnosisScenarios.ALL) {
            if (only.isEmpty() || only.contains(s.name())) {
                failed += diagnosed(records, s);
            }
        }
        System.out.println();
        System.out.println("What the unclean endings mean:");
        for (String h : hints) {
            System.out.println("  " + h);
        }
        System.out.println();
        System.out.println(failed == 0 ? "All observed outcomes match." : failed + " observed outcome(s) differ from the expected ones.");
        System.exit(failed == 0 ? 0 : 1);
    }

    /**
     * Runs a scenario of several connections, prints one row per side (how many ended how, and after how
     * long idle) and the diagnoses it led to, and returns 1 if the expected one is not among them.
     */
    private static int diagnosed(Records records, DiagnosisScenarios.Spec s) throws Exception {
        java.util.Set<String> before = causes(records.diagnoses());
        DiagnosisScenarios.Result r = DiagnosisScenarios.run(s, records, new TlsContexts());
        for (String side : List.of("CLIENT", "SERVER")) {
            java.util.Map<String, Integer> endings = new java.util.TreeMap<>();
            long idleMin = Long.MAX_VALUE;
            long idleMax = -1;
            for (java.util.Map<String, Object> rec : r.records()) {
                if (side.equals(rec.get("role"))) {
                    endings.merge(rec.get("outcome") + "/" + rec.get("initiator"), 1, Integer::sum);
                    long idle = ((Number) rec.get("idleMillis")).longValue();
                    idleMin = Math.min(idleMin, idle);
                    idleMax = Math.max(idleMax, idle);
                }
            }
            StringBuilder seen = new StringBuilder();
            endings.forEach((k, n) -> seen.append(seen.length() == 0 ? "" : ", ").append(n).append("x ").append(k));
            System.out.printf("%-24s %-10s %-8s %-7s %-15s %s%n", s.name(), "SSLSocket", "", side.toLowerCase(),
                    side.equals("CLIENT") ? s.kind() : "", seen + (idleMax < 0 ? "" : ", idle " + idleMin + ".." + idleMax + " ms"));
        }
        if (!r.error().isEmpty()) {
            System.out.println("    error: " + r.error());
        }
        boolean found = false;
        for (String d : r.diagnoses()) {
            if (!before.contains(cause(d))) {
                System.out.println("    diagnosis: " + d);
                found |= d.startsWith(s.kind() + " ");
            }
        }
        if (!found) {
            System.out.println("    MISMATCH: no " + s.kind() + " diagnosis");
        }
        return found ? 0 : 1;
    }

    private static java.util.Set<String> causes(List<String> diagnoses) {
        java.util.Set<String> out = new java.util.HashSet<>();
        for (String d : diagnoses) {
            out.add(cause(d));
        }
        return out;
    }

    /** "KIND peer" of a diagnosis line. */
    private static String cause(String diagnosis) {
        int colon = diagnosis.indexOf(": ");
        return colon < 0 ? diagnosis : diagnosis.substring(0, colon);
    }

    private static int row(ScenarioRunner.Result r, String side, Expect expect, java.util.Map<String, Object> rec,
                           String mismatch) {
        if (expect == null && rec == null) {
            return 0;
        }
        String observed = rec == null ? "(none)" : rec.get("outcome") + "/" + rec.get("initiator");
        String expected = expect == null ? "(none)" : expect.any() ? "(any)" : expect.outcome() + "/"
                + expect.fields().get("initiator");
        boolean ok = mismatch.isEmpty();
        System.out.printf("%-24s %-10s %-8s %-7s %-15s %-15s %s%n", r.scenario.name, r.api, r.protocol, side,
                expected, observed, ok ? "ok" : "MISMATCH " + mismatch);
        return ok ? 0 : 1;
    }
}
