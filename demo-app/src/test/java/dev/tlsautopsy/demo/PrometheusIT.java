package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How fleets scrape the agent: the real Prometheus JMX exporter (1.0.1) runs beside it with the rules
 * docs/ ships, and its HTTP endpoint's {@code tls_autopsy_endings_total{api,outcome}} equal the summary's
 * counts, API by API.
 */
class PrometheusIT {

    static final Path EXPORTER = Forked.DEMO.getParent().resolve("prometheus").resolve("jmx_prometheus_javaagent-1.0.1.jar");
    static final Path RULES = Paths.get(System.getProperty("tlsautopsy.docs", "../docs")).resolve("prometheus-jmx-exporter.yaml")
            .toAbsolutePath().normalize();
    static final Pattern SAMPLE = Pattern.compile("^tls_autopsy_endings_total\\{api=\"(\\w+)\",outcome=\"(\\w+)\",?\\} ([0-9.eE+]+)$");

    static Stream<String> jdks() {
        return Forked.jdks().stream();
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void endingsAreCountersLabelledByApiAndOutcome(String jdk, @TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(Paths.get(jdk, "bin", "java").toString(),
                Forked.agentArg("summary=summary.json,interval=0"),
                "-javaagent:" + EXPORTER + "=127.0.0.1:" + port + ":" + RULES,
                "-cp", Forked.DEMO.toString(), "dev.tlsautopsy.demo.scenario.ScenarioMain", "--api", "SSLSocket",
                "--out", "results.json", "--hold", "clean-close-client", "truncated", "reset-on-read", "untrusted-certificate"));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(dir.resolve("stderr.txt").toFile()).start();
        String metrics;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String held = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String l; (l = out.readLine()) != null; ) {
                        if (l.equals("held")) {
                            return l;
                        }
                    }
                    return null;
                } catch (Exception e) {
                    return null;
                }
            }).get(120, TimeUnit.SECONDS);
            assertEquals("held", held, Files.readString(dir.resolve("stderr.txt")));
            metrics = scrape(port);
        } finally {
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("stderr.txt")));

        Map<String, Long> scraped = new HashMap<>();
        for (String l : metrics.split("\n")) {
            Matcher m = SAMPLE.matcher(l.trim());
            if (m.matches()) {
                scraped.put(m.group(1) + "/" + m.group(2), (long) Double.parseDouble(m.group(3)));
            }
        }
        assertTrue(metrics.contains("# TYPE tls_autopsy_endings_total counter")
                || metrics.contains("# TYPE tls_autopsy_endings counter"), metrics);
        JsonObject summary = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject();
        long total = 0;
        for (Map.Entry<String, JsonElement> api : summary.getAsJsonObject("byApi").entrySet()) {
            for (String outcome : ScenarioMatrixIT.OUTCOMES) {
                JsonElement n = api.getValue().getAsJsonObject().get(outcome);
                long expected = n == null ? 0 : n.getAsLong();
                assertEquals(expected, scraped.getOrDefault(api.getKey() + "/" + outcome, -1L),
                        api.getKey() + " " + outcome + " in\n" + metrics);
                total += expected;
            }
        }
        assertEquals(summary.get("connections").getAsLong(), total);
        assertEquals(8, total, "both sides of the four connections");
        assertTrue(metrics.contains("tls_autopsy_open_connections{api=\"SSLSocket\",} 0.0")
                || metrics.contains("tls_autopsy_open_connections{api=\"SSLSocket\"} 0"), metrics);
    }

    /** The exporter's metrics page, once it answers (bounded). */
    static String scrape(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpURLConnection c = (HttpURLConnection) new URL("http://127.0.0.1:" + port + "/metrics").openConnection();
                c.setConnectTimeout(2000);
                c.setReadTimeout(10000);
                try (java.io.InputStream in = c.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (java.io.IOException e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw new AssertionError("the exporter never answered on " + port, last);
    }
}
