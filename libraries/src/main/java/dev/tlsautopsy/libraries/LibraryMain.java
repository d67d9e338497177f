package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.scenario.Json;
import dev.tlsautopsy.demo.scenario.Records;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs library cases in this JVM and writes, per case, what the application saw and the records
 * tls-autopsy made for its connections (for the forked-JVM tests, and to look at by hand):
 * {@code LibraryMain [--out FILE] [--list] [CASE|LIBRARY...]}; no name runs every case.
 */
public final class LibraryMain {

    private LibraryMain() {
    }

    public static List<Case> all() {
        List<Case> all = new ArrayList<>(HttpCases.all());
        all.addAll(NettyCases.all());
        all.addAll(GrpcCases.all());
        all.addAll(ProviderCases.all());
        all.addAll(ClientMatrix.all());
        all.addAll(ServerMatrix.all());
        all.addAll(CloseRace.all());
        return all;
    }

    public static void main(String[] args) throws Exception {
        String out = null;
        // --await-attach: open connections, say "ready PID", wait for "go" on stdin (attach the agent in
        // between), run the cases, then end those connections
        boolean awaitAttach = false;
        List<String> only = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out": out = args[++i]; break;
                case "--await-attach": awaitAttach = true; break;
                case "--list":
                    for (Case c : all()) {
                        System.out.printf("%-40s %-28s %s%n", c.name(), c.library(), c.title());
                    }
                    return;
                default: only.add(args[i]);
            }
        }
        TlsContexts tls = new TlsContexts();
        PreAttach pre = null;
        java.io.BufferedReader stdin = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        if (awaitAttach) {
            pre = PreAttach.open(tls);
            System.out.println("ready " + ProcessHandle.current().pid());
            System.out.flush();
            String line;
            while ((line = stdin.readLine()) != null && !line.trim().equals("go")) {
                // wait for the attach
            }
        }
        Records records = Records.subscribe(Long.getLong("libraries.agentWaitMillis", 10_000), awaitAttach);
        List<Object> results = new ArrayList<>();
        for (Case c : all()) {
            if (!only.isEmpty() && !selected(only, c)) {
                continue;
            }
            int from = records.count();
            Case.Run run = new Case.Run(tls);
            String error = "";
            String skipped = "";
            long started = System.nanoTime();
            try {
                c.body().run(run);
            } catch (Case.Skipped s) {
                skipped = s.getMessage();
            } catch (Throwable t) {
                error = t.toString();
            }
            List<Map<String, Object>> mine = records.agentPresent() && skipped.isEmpty()
                    ? await(records, from, run, c.records()) : List.of();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("case", c.name());
            m.put("library", c.library());
            m.put("error", error);
            m.put("skipped", skipped);
            m.put("saw", run.seen());
            m.put("ports", new ArrayList<>(run.ports()));
            m.put("records", mine);
            results.add(m);
            System.out.printf("%-40s %5d ms  %d record(s)%s%s%n", c.name(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                    mine.size(), error.isEmpty() ? "" : "  error: " + error, skipped.isEmpty() ? "" : "  skipped: " + skipped);
            for (Map<String, Object> r : mine) {
                System.out.printf("    %-6s %-9s %-15s %-7s idle %5s noticed %5s  %s%n", r.get("role"), r.get("api"),
                        r.get("outcome") + "/" + r.get("initiator"), "", r.get("idleMillis"), r.get("noticedAfterMillis"),
                        r.get("exception"));
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        if (pre != null) {
            int from = records.count();
            Case.Run run = new Case.Run(tls);
            for (int p : pre.ports()) {
                run.port(p);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("saw", pre.end());
            m.put("skipped", pre.skipped());
            m.put("records", await(records, from, run, pre.skipped().isEmpty() ? 7 : 5));
            pre.close();
            doc.put("openedBeforeAttach", m);
        }
        doc.put("jdk", Runtime.version().feature());
        doc.put("agent", records.agentPresent());
        doc.put("cases", results);
        doc.put("diagnoses", records.agentPresent() ? records.diagnoses() : List.of());
        String json = Json.write(doc);
        if (out == null) {
            System.out.println(json);
        } else {
            Files.write(Paths.get(out), json.getBytes(StandardCharsets.UTF_8));
        }
        System.exit(0);
    }

    /** A case named, or one of a group named by its prefix ({@code okhttp} runs every {@code okhttp-...}). */
    static boolean selected(List<String> only, Case c) {
        for (String o : only) {
            if (c.name().equals(o) || c.name().startsWith(o + "-") || c.library().equals(o)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The records of this case's connections (client records to its ports, server records on them): waits
     * for the expected number (10 s at most), then 300 ms more for any extra one (a second record for one
     * connection is a defect the tests must see).
     */
    static List<Map<String, Object>> await(Records records, int from, Case.Run run, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long graceUntil = Long.MAX_VALUE;
        while (true) {
            List<Map<String, Object>> mine = new ArrayList<>();
            for (Map<String, Object> r : records.since(from)) {
                boolean client = "CLIENT".equals(r.get("role"));
                Object port = r.get(client ? "peerPort" : "localPort");
                if (port instanceof Number && run.ports().contains(((Number) port).intValue())) {
                    mine.add(r);
                }
            }
            long now = System.nanoTime();
            if (mine.size() >= expected && graceUntil == Long.MAX_VALUE) {
                graceUntil = now + TimeUnit.MILLISECONDS.toNanos(300);
            }
            if (now >= deadline || now >= graceUntil) {
                return mine;
            }
            records.awaitCount(records.count() + 1, Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(deadline, graceUntil) - now)));
        }
    }
}
