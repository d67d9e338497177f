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
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The agent's cost against every target of SPEC section 9, measured side by side: each workload runs in
 * fresh JVMs with and without the agent so that machine drift cancels. Throughput workloads run in paired
 * turns (two live JVMs, one with the agent, a round each in turn after a warm-up) and are measured in CPU
 * time of the Java threads per unit of work: the application's and the agent's threads, not the JVM's
 * compiler and GC threads, whose work lands in whichever round it lands in (on a shared two-core machine
 * wall time drifts by +-15 %; the whole process's CPU time varied +-25 % round to round). Start-up
 * workloads alternate fresh JVMs. Each figure is a median with a 95 % bootstrap interval.
 *
 * <pre>
 * java -cp demo-app/target/tls-autopsy-demo.jar dev.tlsautopsy.demo.bench.Bench [--quick] [--pairs K]
 *      [--rounds TURNS] [--starts N] [--agent agent/target/tls-autopsy-agent.jar] [--jdk JAVA_HOME]...
 *      [--finished N] [--only churn|bulk|first|attach|heap] [--floor] [--connections N] [--slice N]
 *      (--only takes a workload's name too: "first handshake", "churn Netty"; start-up runs on every --jdk,
 *      throughput, attach and heap on the first)
 * </pre>
 */
public final class Bench {

    private final List<String> jdks = new ArrayList<>();
    private Path agent = Paths.get("agent/target/tls-autopsy-agent.jar");
    private final String classpath = System.getProperty("java.class.path");
    private boolean quick;
    /** JVM pairs (with, without) per throughput workload. */
    private int pairs = 4;
    /** Paired turns (a measured round in each JVM of a pair) per pair. */
    private int rounds = 16;
    /** Fresh JVMs each way for the start-up workloads. */
    private int starts = 30;
    private int finished = 1_000_000;
    /** Connections a churn turn makes in each JVM of a pair. */
    private int connections = 200;
    /** Connections in a slice of a churn turn, the two JVMs alternating slice by slice. */
    private int slice = 20;
    private String only = "";
    /** Also measure the start-up an agent that does nothing costs: the floor of {@code -javaagent} itself. */
    private boolean floor;
    /** The options the measured agent gets (the floor's agents take their own). */
    private String agentOptions = "summary=off";
    private final Random random = new Random(20261129);

    public static void main(String[] args) throws Exception {
        Bench b = new Bench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick": b.quick = true; break;
                case "--pairs": b.pairs = Integer.parseInt(args[++i]); break;
                case "--rounds": b.rounds = Integer.parseInt(args[++i]); break;
                case "--starts": b.starts = Integer.parseInt(args[++i]); break;
                case "--agent": b.agent = Paths.get(args[++i]); break;
                case "--jdk": b.jdks.add(args[++i]); break;
                case "--finished": b.finished = Integer.parseInt(args[++i]); break;
                case "--only": b.only = args[++i]; break;
                case "--floor": b.floor = true; break;
                case "--connections": b.connections = Integer.parseInt(args[++i]); break;
                case "--slice": b.slice = Integer.parseInt(args[++i]); break;
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
            b.pairs = 1;
            b.rounds = 2;
            b.starts = 2;
            b.finished = 20_000;
            b.connections = 30;
            b.slice = 15;
        }
        if (b.slice < 1 || b.connections % b.slice != 0) {
            System.err.println("bench: --connections " + b.connections + " is not a whole number of --slice " + b.slice);
            System.exit(2);
        }
        b.run();
    }

    private boolean selected(String family) {
        return only.isEmpty() || family.startsWith(only) || only.startsWith(family);
    }

    private void run() throws Exception {
        String jdk = jdks.get(0);
        System.out.printf(Locale.ROOT, "tls-autopsy bench: %s, %d core(s), agent %s; %d JVM pair(s) x %d turn(s), %d start(s) each way%n",
                version(jdk), Runtime.getRuntime().availableProcessors(), agent, pairs, rounds, starts);
        System.out.printf(Locale.ROOT, "%-50s %12s %12s %9s  %-17s %-10s%n", "workload", "without", "with", "result",
                "95% interval", "target");
        for (String api : new String[] {"SSLSocket", "SSLEngine", "Netty"}) {
            if (selected("churn " + api)) {
                // the child's warm-up: 8 turns' worth (CPU per connection settles after about 1,200)
                ratio("churn " + api + " (CPU us/connection)", jdk,
                        List.of("churn", api, Integer.toString(slice), "0", Integer.toString(8 * connections)),
                        "churn-" + api, 0.99, connections / slice);
            }
        }
        if (selected("bulk")) {
            // 1 GiB a turn, as SPEC section 9 names it; a shorter round's CPU time is too few of the
            // operating system's 10 ms ticks to compare at 0.5 %
            ratio("bulk SSLEngine, 1 GiB a turn (CPU us/MiB)", jdk,
                    List.of("bulk", Integer.toString(quick ? 16 : 1024), "0"), "bulk", 0.995, 1);
        }
        if (selected("first")) {
            Path empty = floor ? emptyAgent() : null;
            for (String j : selected("first handshake") ? jdks : List.<String>of()) {
                added("first handshake, TLS at once (ms), " + version(j), j, "dev.tlsautopsy.demo.bench.FirstHandshake",
                        "first handshake completed ", 100, empty);
            }
            for (String j : selected("first HTTPS response") ? jdks : List.<String>of()) {
                added("first HTTPS response, Netty server (ms), " + version(j), j,
                        "dev.tlsautopsy.demo.bench.FirstResponse", "first response ", 100, empty);
            }
            if (empty != null) {
                Files.deleteIfExists(empty);
            }
        }
        if (selected("attach")) {
            attach(jdk);
        }
        if (selected("heap")) {
            memory(jdk);
        }
    }

    // ---------------------------------------------------------------- statistics

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (a.length == 0) {
            return Double.NaN;
        }
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private List<Double> resample(List<Double> v) {
        List<Double> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            out.add(v.get(random.nextInt(v.size())));
        }
        return out;
    }

    // ---------------------------------------------------------------- workloads

    /**
     * CPU per unit of work without the agent over CPU per unit with it (1.0: no cost), in paired turns: each
     * of {@link #pairs} pairs is two JVMs alive at once, one with the agent, and they run a round each in
     * turn ({@link #rounds} turns, the first mover alternating), so that what drifts on the machine drifts
     * for both. A turn is cut into {@code slices} rounds each way, the JVMs alternating round by round and
     * the first mover too, so that the machine's drift within a turn cancels as well (one JVM's rounds of
     * 1,000 connections vary by +-10 % from one to the next; turns of 1,000 connections read with a spread
     * of 7 % uncut, 4 % in slices of 100 and 2 % in slices of 20). Each turn gives one ratio; the figure is their
     * median, its interval a bootstrap over pairs, then turns (a JVM's JIT decisions persist across its turns).
     */
    private void ratio(String name, String jdk, List<String> turns, String result, double target, int slices)
            throws Exception {
        List<List<Double>> ratios = new ArrayList<>();
        List<Double> without = new ArrayList<>();
        List<Double> with = new ArrayList<>();
        for (int p = 0; p < pairs; p++) {
            List<Double> pair = new ArrayList<>();
            // one JVM warms up, then the other: warming up side by side, the second's warm-up ran into the
            // first's first round (the first turns read 0.79-0.90 in every pair)
            try (Child plain = new Child(jdk, false, turns).warm(); Child agentOn = new Child(jdk, true, turns).warm()) {
                for (int t = 0; t < rounds; t++) {
                    double wo = 0;
                    double wi = 0;
                    for (int k = 0; k < slices; k++) {
                        boolean agentFirst = (p + t + k) % 2 == 1;
                        double a = (agentFirst ? agentOn : plain).turn(result);
                        double b = (agentFirst ? plain : agentOn).turn(result);
                        wo += (agentFirst ? b : a) / slices;
                        wi += (agentFirst ? a : b) / slices;
                    }
                    without.add(wo);
                    with.add(wi);
                    pair.add(wo / wi);
                    if (Boolean.getBoolean("bench.turns")) {
                        System.err.printf(Locale.ROOT, "  pair %d turn %d: without %.0f with %.0f ratio %.3f%n", p, t, wo, wi, wo / wi);
                    }
                }
            }
            ratios.add(pair);
        }
        List<Double> all = new ArrayList<>();
        ratios.forEach(all::addAll);
        double ratio = median(all);
        double[] b = new double[2000];
        for (int i = 0; i < b.length; i++) {
            List<Double> sample = new ArrayList<>();
            for (int k = 0; k < ratios.size(); k++) {
                sample.addAll(resample(ratios.get(random.nextInt(ratios.size()))));
            }
            b[i] = median(sample);
        }
        Arrays.sort(b);
        System.out.printf(Locale.ROOT, "%-50s %12.1f %12.1f %9.3f  %-17s >= %-7.3f %s%n", name, median(without) / 1000,
                median(with) / 1000, ratio, String.format(Locale.ROOT, "%.3f..%.3f", b[50], b[1949]), target,
                ratio >= target ? "met" : "MISSED");
    }

    /** A {@link BenchChild} in paired-turn mode: a round each time it is told. */
    private final class Child implements AutoCloseable {
        private final Process process;
        private final BufferedReader in;
        private final Path err;
        private final List<String> said = new ArrayList<>();

        Child(String jdk, boolean withAgent, List<String> args) throws IOException {
            err = Files.createTempFile("tls-autopsy-bench-", ".err");
            process = new ProcessBuilder(command(jdk, withAgent, "dev.tlsautopsy.demo.bench.BenchChild", args))
                    .redirectError(err.toFile()).start();
            in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        private boolean ready;

        /** Waits until the child has warmed up and waits for its first round. */
        Child warm() throws IOException {
            try {
                await("turn ready");
            } catch (IOException | RuntimeException e) {
                process.destroyForcibly();
                Files.deleteIfExists(err);
                throw e;
            }
            ready = true;
            return this;
        }

        /** One round: the CPU nanoseconds per unit it reports. */
        double turn(String result) throws IOException {
            if (!ready) {
                await("turn ready");
            }
            ready = false;
            process.getOutputStream().write("go\n".getBytes(StandardCharsets.US_ASCII));
            process.getOutputStream().flush();
            String[] f = await("round " + result + " ").split(" ");
            return Double.parseDouble(f[2]);
        }

        private String await(String prefix) throws IOException {
            String l;
            while ((l = in.readLine()) != null) {
                said.add(l);
                if (l.startsWith(prefix)) {
                    return l;
                }
            }
            throw new IllegalStateException("the bench child ended before '" + prefix.trim() + "': " + said + "\n"
                    + Files.readString(err));
        }

        @Override
        public void close() throws Exception {
            try {
                process.getOutputStream().close();
                if (!process.waitFor(2, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("a bench child did not end");
                }
            } finally {
                Files.deleteIfExists(err);
            }
        }
    }

    /** One way to start the workload's JVM: with which agent jar (null: none) and options. */
    private static final class Start {
        final String name;
        final Path jar;
        final String options;

        Start(String name, Path jar, String options) {
            this.name = name;
            this.jar = jar;
            this.options = options;
        }
    }

    /**
     * Milliseconds the agent adds from JVM start to a first result, in {@link #starts} rounds of fresh JVMs
     * started one after the other: without the agent and with it, and with {@code empty} (the floors) also
     * with an agent that does nothing and one whose transformer changes nothing, the order rotating from
     * round to round. Each figure is the median of the rounds' differences against the JVM without an
     * agent, so that what the machine does at that moment weighs on both sides of each difference; the
     * floors are measured in the same rounds, not in pairs of their own minutes apart.
     */
    private void added(String name, String jdk, String main, String prefix, double targetMillis, Path empty) throws Exception {
        List<Start> ways = new ArrayList<>(List.of(new Start(null, null, null), new Start(name, agent, agentOptions)));
        if (empty != null) {
            ways.add(new Start("  floor: -javaagent with an empty premain", empty, ""));
            ways.add(new Start("  floor: and a transformer that changes nothing", empty, "transformer"));
        }
        int n = ways.size();
        List<List<double[]>> results = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            results.add(new ArrayList<>());
        }
        Path measured = agent;
        String measuredOptions = agentOptions;
        try {
            for (int r = 0; r < starts; r++) {
                for (int k = 0; k < n; k++) {
                    Start w = ways.get((r + k) % n);
                    agent = w.jar == null ? measured : w.jar;
                    agentOptions = w.jar == null ? measuredOptions : w.options;
                    results.get((r + k) % n).add(firstResult(jdk, w.jar != null, main, prefix));
                }
            }
        } finally {
            agent = measured;
            agentOptions = measuredOptions;
        }
        for (int k = 1; k < n; k++) {
            print(ways.get(k).name, results.get(0), results.get(k), k == 1 ? targetMillis : Double.NaN);
        }
        if (empty != null) {
            print("  the agent beyond the empty premain", results.get(2), results.get(1), Double.NaN);
        }
    }

    /** The median difference of {@code with} over {@code base}, round by round, and its CPU line. */
    private void print(String name, List<double[]> base, List<double[]> with, double targetMillis) {
        List<Double> diffs = new ArrayList<>();
        List<Double> cpuDiffs = new ArrayList<>();
        List<Double> without = new ArrayList<>();
        List<Double> withs = new ArrayList<>();
        for (int r = 0; r < base.size(); r++) {
            without.add(base.get(r)[0]);
            withs.add(with.get(r)[0]);
            diffs.add(with.get(r)[0] - base.get(r)[0]);
            cpuDiffs.add(with.get(r)[1] - base.get(r)[1]);
        }
        double added = median(diffs);
        double[] ci = interval(diffs);
        String interval = String.format(Locale.ROOT, "%+.0f..%+.0f", ci[0], ci[1]);
        if (Double.isNaN(targetMillis)) {
            System.out.printf(Locale.ROOT, "%-50s %12.0f %12.0f %+8.0f   %s%n", name, median(without), median(withs),
                    added, interval);
        } else {
            System.out.printf(Locale.ROOT, "%-50s %12.0f %12.0f %+8.0f   %-17s <= %-7.0f %s%n", name, median(without),
                    median(withs), added, interval, targetMillis, added <= targetMillis ? "met" : "MISSED");
        }
        double[] cpuCi = interval(cpuDiffs);
        System.out.printf(Locale.ROOT, "%-50s %12s %12s %+8.0f   %-17s%n", "  CPU time of that JVM until then (ms)", "", "",
                median(cpuDiffs), String.format(Locale.ROOT, "%+.0f..%+.0f", cpuCi[0], cpuCi[1]));
    }

    /** A jar whose agent ({@link EmptyAgent}, on the bench's class path) does nothing. */
    private static Path emptyAgent() throws IOException {
        Path jar = Files.createTempFile("tls-autopsy-bench-empty-agent-", ".jar");
        java.util.jar.Manifest m = new java.util.jar.Manifest();
        m.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().putValue("Premain-Class", EmptyAgent.class.getName());
        m.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), m)) {
            out.flush();
        }
        return jar;
    }

    /** A 95 % bootstrap interval of the median of {@code v} over 2000 resamples. */
    private double[] interval(List<Double> v) {
        double[] b = new double[2000];
        for (int i = 0; i < b.length; i++) {
            b[i] = median(resample(v));
        }
        Arrays.sort(b);
        return new double[] {b[50], b[1949]};
    }

    private double[] firstResult(String jdk, boolean withAgent, String main, String prefix) throws Exception {
        List<String> out = java(jdk, withAgent, main, List.of());
        double millis = -1;
        double cpu = -1;
        for (String l : out) {
            if (l.startsWith(prefix)) {
                millis = Double.parseDouble(l.substring(prefix.length()).split(" ")[0]);
            } else if (l.startsWith("cpu ")) {
                cpu = Double.parseDouble(l.split(" ")[1]);
            }
        }
        if (millis < 0) {
            throw new IllegalStateException(main + " said " + out);
        }
        return new double[] {millis, cpu};
    }

    /** {@code java -jar agent.jar attach PID} end to end, CLI JVM included. */
    private void attach(String jdk) throws Exception {
        List<Double> millis = new ArrayList<>();
        for (int r = 0; r < Math.max(3, quick ? 1 : 7); r++) {
            Process target = new ProcessBuilder(java(jdk), "-XX:+EnableDynamicAgentLoading", "-cp", classpath,
                    "dev.tlsautopsy.demo.bench.BenchChild", "idle").redirectError(ProcessBuilder.Redirect.DISCARD).start();
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
        System.out.printf(Locale.ROOT, "%-50s %12s %12.0f %9s  %-17s <= %-7s %s%n", "attach end to end (ms)", "-", m, "",
                spread(millis), "1000", m <= 1000 ? "met" : "MISSED");
    }

    private void memory(String jdk) throws Exception {
        List<String> fin = List.of("finished", Integer.toString(finished));
        double without = child(jdk, false, fin).get("finished-heap");
        double with = child(jdk, true, fin).get("finished-heap");
        double retained = (with - without) / (1 << 20);
        System.out.printf(Locale.ROOT, "%-50s %12.1f %12.1f %+8.2f MB %-17s <= %-7s %s%n",
                "heap after " + finished + " finished connections (MB)", without / (1 << 20), with / (1 << 20), retained,
                "", "5 MB", retained <= 5 ? "met" : "MISSED");
        int n = quick ? 300 : 3000;
        List<String> open = List.of("open", Integer.toString(n));
        List<Double> wo = new ArrayList<>();
        List<Double> wi = new ArrayList<>();
        for (int r = 0; r < Math.max(1, quick ? 1 : 3); r++) {
            wo.add(child(jdk, false, open).get("open-heap"));
            wi.add(child(jdk, true, open).get("open-heap"));
        }
        double perConnection = median(wi) - median(wo);
        System.out.printf(Locale.ROOT, "%-50s %12.0f %12.0f %+8.0f B  %-17s <= %-7s %s%n",
                "heap per open connection, " + n + " open (B)", median(wo), median(wi), perConnection, spread(wi),
                "256 B", perConnection <= 256 ? "met" : "MISSED");
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

    private List<String> command(String jdk, boolean withAgent, String main, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java(jdk));
        if (withAgent) {
            cmd.add("-javaagent:" + agent.toAbsolutePath() + "=" + agentOptions);
        }
        cmd.addAll(List.of("-cp", classpath, main));
        cmd.addAll(args);
        return cmd;
    }

    private List<String> java(String jdk, boolean withAgent, String main, List<String> args) throws Exception {
        List<String> cmd = command(jdk, withAgent, main, args);
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

    private static String spread(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length < 2 ? "-" : String.format(Locale.ROOT, "%.0f..%.0f", a[0], a[a.length - 1]);
    }
}
