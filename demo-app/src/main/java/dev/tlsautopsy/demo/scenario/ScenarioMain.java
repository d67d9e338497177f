package dev.tlsautopsy.demo.scenario;

import dev.tlsautopsy.demo.tls.TlsContexts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs scenarios for one API and protocol and writes the results as JSON (for the forked-JVM tests):
 * {@code ScenarioMain --api SSLSocket|SSLEngine --protocol TLSv1.3 --out FILE [SCENARIO...]}. The scenarios of
 * {@link DiagnosisScenarios} run only when named.
 */
public final class ScenarioMain {

    private ScenarioMain() {
    }

    public static void main(String[] args) throws Exception {
        Env.Api api = Env.Api.SSLSocket;
        String protocol = "TLSv1.3";
        String out = null;
        // --hold: after the scenarios, stay up (saying "held") until stdin closes: a scraper can look meanwhile
        boolean hold = false;
        List<String> only = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--api": api = Env.Api.valueOf(args[++i]); break;
                case "--protocol": protocol = args[++i]; break;
                case "--out": out = args[++i]; break;
                case "--hold": hold = true; break;
                default: only.add(args[i]);
            }
        }
        Records records = Records.subscribe(Long.getLong("scenario.agentWaitMillis", 10_000));
        ScenarioRunner runner = new ScenarioRunner(records, new TlsContexts());
        List<ScenarioRunner.Result> results = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            if (s.appliesTo(api) && (only.isEmpty() || only.contains(s.name))) {
                results.add(runner.run(s, api, protocol));
            }
        }
        List<Object> diagnosed = new ArrayList<>();
        for (DiagnosisScenarios.Spec s : DiagnosisScenarios.ALL) {
            if (only.contains(s.name())) {
                DiagnosisScenarios.Result r = DiagnosisScenarios.run(s, records, new TlsContexts());
                java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("scenario", s.name());
                m.put("kind", s.kind());
                m.put("error", r.error());
                m.put("records", r.records());
                diagnosed.add(m);
            }
        }
        java.util.Map<String, Object> out2 = new java.util.LinkedHashMap<>();
        out2.put("jdk", Runtime.version().feature());
        out2.put("agent", records.agentPresent());
        out2.put("records", records.since(0));
        out2.put("mbean", records.agentPresent() ? records.attributes() : null);
        out2.put("results", ScenarioRunner.toMaps(results));
        out2.put("diagnosisScenarios", diagnosed);
        out2.put("diagnoses", records.agentPresent() ? records.diagnoses() : List.of());
        // the agent must not open the JDK's TLS internals to the application's classes
        out2.put("jsseOpenToApplication", Object.class.getModule().isOpen("sun.security.ssl", ScenarioMain.class.getModule()));
        String json = Json.write(out2);
        if (out == null) {
            System.out.println(json);
        } else {
            Files.write(Paths.get(out), json.getBytes(StandardCharsets.UTF_8));
        }
        String netty = "";
        if (api.netty()) {
            io.netty.util.Version v = io.netty.util.Version.identify().get("netty-handler");
            netty = " netty " + (v == null ? "?" : v.artifactVersion());
        }
        System.out.println("scenarios: " + results.size() + netty + " agent: " + records.agentPresent()
                + " records: " + records.count() + " " + Arrays.toString(args));
        if (hold) {
            System.out.println("held");
            System.out.flush();
            while (System.in.read() >= 0) {
                // until stdin closes
            }
        }
    }
}
