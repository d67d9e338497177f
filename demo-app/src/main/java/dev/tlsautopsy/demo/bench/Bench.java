package dev.tlsautopsy.demo.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The agent's cost, measured side by side: every workload runs in fresh JVMs with and without the
 * agent, alternating round by round so that machine drift cancels, and prints medians, spreads and
 * ratios against the targets.
 *
 * <pre>
 * java -cp demo-app/target/tls-autopsy-demo.jar dev.tlsautopsy.demo.bench.Bench [--quick] [--rounds N]
 *      [--agent agent/target/tls-autopsy-agent.jar] [--jdk JAVA_HOME]... [--finished N] [--only churn|bulk|first|attach|heap]
 * </pre>
 */
public final class Bench {

    private final List<String> jdks = new ArrayList<>();
    private Path agent = Paths.get("agent/target/tls-autopsy-agent.jar");
    private final String classpath = System.getProperty("java.class.path");
    private boolean quick;
    private int rounds = 5;
    private int finished = 1_000_000;
    /** Only the workloads whose name starts with this ({@code churn}, {@code bulk}, {@code first}, {@code attach}, {@code heap}). */
    private String only = "";

    public static void main(String[] args) throws Exception {
        Bench b = new Bench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick": b.quick = true; break;
                case "--rounds": b.rounds = Integer.parseInt(args[++i]); break;
                case "--agent": b.agent = Paths.get(args[++i]); break;
                case "--jdk": b.jdks.add(args[++i]); break;
                case "--finished": b.finished = Integer.parseInt(args[++i]); break;
                case "--only": b.only = args[++i]; break;
                default:
                    System.err.println("bench: unknown argument " + args[i]);
                    System.exit(2);
            }
        }
        if (!Files.isRegularFile(b.agent)) {
            System.err.println("bench: agent jar not found at " + b.agent + " (build it, or pass --agent)");
            System.exit(2);
        }
        if (b.jdks.isEmpty()) {
            b.jdks.add(System.getProperty("java.home"));
        }
        if (b.quick) {
            b.rounds = 1;
            b.finished = 20_000;
        }
        b.run();
    }

    private void run() throws Exception {
        String jdk = jdks.get(0);
        int churn = quick ? 60 : 1000;
        System.out.printf(Locale.ROOT, "tls-autopsy bench: %s, %d core(s), %d round(s), agent %s%n",
                version(jdk), Runtime.getRuntime().availableProcessors(), rounds, agent);
        header();
        if ("churn".startsWith(only) || only.startsWith("churn")) {
            for (String api : new String[] {"SSLSocket", "SSLEngine", "Netty"}) {
                if (("churn " + api).startsWith(only)) {
                    ratio("churn " + api + " (conn/s)", jdk, List.of("churn", api, Integer.toString(churn)), "churn-" + api, 0.97);
                }
            }
        }
        if ("bulk".startsWith(only)) {
            ratio("bulk SSLEngine (MiB/s)", jdk, List.of("bulk", Long.toString(quick ? 64L << 20 : 1L << 30)), "bulk", 0.99);
        }
        if ("first".startsWith(only)) {
            for (String j : jdks) {
                added("first handshake, TLS at once (ms) " + version(j), j, "0", 200);
                added("first handshake, TLS at 2 s (ms) " + version(j), j, "2000", 200);
            }
        }
        if ("attach".startsWith(only)) {
            attach(jdk);
        }
        if ("heap".startsWith(only)) {
            memory(jdk);
        }
    }

    private void header() {
        System.out.printf(Locale.ROOT, "%-44s %12s %12s %9s %s%n", "workload", "without", "with", "ratio", "target");
    }

    /** Throughput with the agent over throughput without it (1.0: no cost). */
    private void ratio(String name, String jdk, List<String> args, String result, double target) throws Exception {
        List<Double> without = new ArrayList<>();
        List<Double> with = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            without.add(child(jdk, false, args).get(result));
            with.add(child(jdk, true, args).get(result));
        }
        double ratio = median(with) / median(without);
        System.out.printf(Locale.ROOT, "%-44s %12.1f %12.1f %9.3f >= %.2f %s  spread %s / %s%n", name, median(without),
                median(with), ratio, target, ratio >= target ? "met" : "MISSED", spread(without), spread(with));
    }

    /** Milliseconds the agent adds from JVM start to the first completed handshake. */
    private void added(String name, String jdk, String after, double targetMillis) throws Exception {
        List<Double> without = new ArrayList<>();
        List<Double> with = new ArrayList<>();
        int n = Math.max(3, rounds);
        for (int r = 0; r < n; r++) {
            without.add(firstHandshake(jdk, false, after));
            with.add(firstHandshake(jdk, true, after));
        }
        double added = median(with) - median(without);
        System.out.printf(Locale.ROOT, "%-44s %12.0f %12.0f %+8.0f ms <= %.0f ms %s  spread %s / %s%n", name,
                median(without), median(with), added, targetMillis, added <= targetMillis ? "met" : "MISSED",
                spread(without), spread(with));
    }

    private double firstHandshake(String jdk, boolean withAgent, String after) throws Exception {
        List<String> out = java(jdk, withAgent, "dev.tlsautopsy.demo.bench.FirstHandshake", List.of(after));
        for (String l : out) {
            if (l.startsWith("first handshake completed ")) {
                return Double.parseDouble(l.split(" ")[3]);
            }
        }
        throw new IllegalStateException("FirstHandshake said " + out);
    }

    /** {@code java -jar agent.jar attach PID} end to end, CLI JVM included. */
    private void attach(String jdk) throws Exception {
        List<Double> millis = new ArrayList<>();
        for (int r = 0; r < Math.max(3, rounds); r++) {
            Process target = new ProcessBuilder(java(jdk), "-cp", classpath, "dev.tlsautopsy.demo.bench.BenchChild", "idle")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                BufferedReader in = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
                String ready = in.readLine();
                if (ready == null || !ready.startsWith("ready")) {
                    throw new IllegalStateException("attach target said " + ready);
                }
                long t0 = System.nanoTime();
                Process cli = new ProcessBuilder(java(jdk), "-jar", agent.toString(), "attach", Long.toString(target.pid()),
                        "summary=off").redirectErrorStream(true).start();
                String said = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (!cli.waitFor(60, TimeUnit.SECONDS) || cli.exitValue() != 0) {
                    throw new IllegalStateException("attach failed: " + said);
                }
                millis.add((double) TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            } finally {
                target.getOutputStream().close();
                if (!target.waitFor(10, TimeUnit.SECONDS)) {
                    target.destroyForcibly();
                }
            }
        }
        double m = median(millis);
        System.out.printf(Locale.ROOT, "%-44s %12s %12.0f %9s <= 1500 ms %s  spread %s%n", "attach end to end (ms)", "-", m,
                "", m <= 1500 ? "met" : "MISSED", spread(millis));
    }

    private void memory(String jdk) throws Exception {
        List<String> fin = List.of("finished", Integer.toString(finished));
        double without = child(jdk, false, fin).get("finished-heap");
        double with = child(jdk, true, fin).get("finished-heap");
        double retained = (with - without) / (1 << 20);
        System.out.printf(Locale.ROOT, "%-44s %12.1f %12.1f %+8.2f MB <= 5 MB %s%n",
                "heap after " + finished + " connections (MB)", without / (1 << 20), with / (1 << 20), retained,
                retained <= 5 ? "met" : "MISSED");
        int n = quick ? 300 : 3000;
        List<String> open = List.of("open", Integer.toString(n));
        List<Double> wo = new ArrayList<>();
        List<Double> wi = new ArrayList<>();
        for (int r = 0; r < Math.max(1, rounds / 2); r++) {
            wo.add(child(jdk, false, open).get("open-heap"));
            wi.add(child(jdk, true, open).get("open-heap"));
        }
        double perConnection = median(wi) - median(wo);
        System.out.printf(Locale.ROOT, "%-44s %12.0f %12.0f %+8.0f B  <= 512 B %s%n",
                "heap per open connection, " + n + " open (B)", median(wo), median(wi), perConnection,
                perConnection <= 512 ? "met" : "MISSED");
    }

    private Map<String, Double> child(String jdk, boolean withAgent, List<String> args) throws Exception {
        Map<String, Double> results = new LinkedHashMap<>();
        for (String l : java(jdk, withAgent, "dev.tlsautopsy.demo.bench.BenchChild", args)) {
            if (l.startsWith("result ")) {
                String[] f = l.split(" ");
                results.put(f[1], Double.parseDouble(f[2]));
            }
        }
        if (results.isEmpty()) {
            throw new IllegalStateException("no result from " + args);
        }
        return results;
    }

    private List<String> java(String jdk, boolean withAgent, String main, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java(jdk));
        if (withAgent) {
            cmd.add("-javaagent:" + agent.toAbsolutePath() + "=summary=off");
        }
        cmd.addAll(List.of("-cp", classpath, main));
        cmd.addAll(args);
        Path err = Files.createTempFile("tls-autopsy-bench-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            List<String> out = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = in.readLine()) != null) {
                    out.add(l);
                }
            }
            if (!p.waitFor(30, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + cmd);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + ": " + String.join(" ", cmd) + "\n"
                        + Files.readString(err));
            }
            return out;
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String java(String jdk) {
        return Paths.get(jdk, "bin", "java").toString();
    }

    private static String version(String jdk) throws IOException {
        Path release = Paths.get(jdk, "release");
        if (Files.isRegularFile(release)) {
            for (String l : Files.readAllLines(release)) {
                if (l.startsWith("JAVA_VERSION=")) {
                    return "JDK " + l.substring("JAVA_VERSION=".length()).replace("\"", "");
                }
            }
        }
        return new File(jdk).getName();
    }

    public static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static String spread(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length < 2 ? "-" : String.format(Locale.ROOT, "%.0f..%.0f", a[0], a[a.length - 1]);
    }
}
