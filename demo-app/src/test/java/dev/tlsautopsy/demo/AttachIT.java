package dev.tlsautopsy.demo;

import dev.tlsautopsy.demo.tls.ProcessLines;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The production path: a JVM started without the agent, with TLS connections open; {@code list} finds
 * it, {@code attach} loads the agent (bad options first: refused, nothing changes; then twice: the
 * second says it is already active); connections made after the attach and those open before it get
 * their records.
 */
class AttachIT {

    static Stream<String> jdks() {
        return Forked.jdks().stream();
    }

    static Forked.Run cli(String jdk, Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(jdk, "bin", "java").toString(), "-jar", Forked.AGENT.toString()));
        cmd.addAll(List.of(args));
        Files.createDirectories(dir);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "cli " + List.of(args) + " did not finish");
        return new Forked.Run(p.exitValue(), out, err.get(), dir);
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    static Path extractJfc(Path dir) throws Exception {
        Path jfc = dir.resolve("tls-autopsy.jfc");
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(Forked.AGENT.toFile());
             java.io.InputStream in = zip.getInputStream(zip.getEntry("tls-autopsy.jfc"))) {
            Files.copy(in, jfc);
        }
        return jfc;
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = read(p.getInputStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), List.of(cmd) + " did not finish");
        assertEquals(0, p.exitValue(), List.of(cmd) + ": " + out);
    }

    @ParameterizedTest
    @MethodSource("jdks")
    void attachToARunningJvm(String jdk, @TempDir Path dir) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Paths.get(jdk, "bin", "java").toString(),
                "-XX:+UnlockDiagnosticVMOptions", "-XX:+BytecodeVerificationLocal"));
        if (Runtime.version().feature() >= 21 || jdk.contains("25")) {
            cmd.add("-XX:+EnableDynamicAgentLoading");
        }
        cmd.addAll(List.of("-cp", Forked.DEMO.toString(), "dev.tlsautopsy.demo.AttachTarget", "results.json"));
        Process target = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectError(dir.resolve("target-stderr.txt").toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
            String ready = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (java.io.IOException e) {
                    return e.toString();
                }
            }).get(60, TimeUnit.SECONDS);
            assertTrue(ready != null && ready.startsWith("ready "), "target said: " + ready);
            String pid = Long.toString(target.pid());

            Forked.Run list = cli(jdk, dir.resolve("list"), "list");
            assertEquals(0, list.exit(), list.stderr());
            assertTrue(list.stdout().lines().anyMatch(l -> l.startsWith(pid + " ") && l.endsWith("dev.tlsautopsy.demo.AttachTarget")),
                    list.stdout());

            Forked.Run bad = cli(jdk, dir.resolve("bad"), "attach", pid, "interval=soon");
            assertEquals(2, bad.exit());
            assertEquals(1, bad.stderr().lines().count(), bad.stderr());
            assertTrue(bad.stderr().startsWith("tls-autopsy: bad option interval=soon"), bad.stderr());

            long t0 = System.nanoTime();
            Forked.Run ok = cli(jdk, dir.resolve("attach"), "attach", pid, "summary=" + dir.resolve("summary.json") + ",interval=0");
            long attachMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(0, ok.exit(), ok.stderr());
            assertTrue(ok.stdout().startsWith("attached to " + pid + ": tls-autopsy ")
                    && ok.stdout().contains("summary: " + dir.resolve("summary.json")), ok.stdout());
            System.out.println("attach end to end on " + Forked.shortName(jdk) + ": " + attachMillis + " ms");

            Forked.Run again = cli(jdk, dir.resolve("again"), "attach", pid);
            assertEquals(0, again.exit(), again.stderr());
            assertTrue(again.stdout().contains("already active in " + pid + "; nothing changed"), again.stdout());

            // JFR tooling: the jar's settings file with jcmd, and the live table of `watch`
            Path jfc = extractJfc(dir);
            Path jcmd = Paths.get(jdk, "bin", "jcmd");
            run(jcmd.toString(), pid, "JFR.start", "name=tls", "settings=" + jfc);
            Process watcher = new ProcessBuilder(Paths.get(jdk, "bin", "java").toString(), "-jar",
                    Forked.AGENT.toString(), "watch", pid).redirectErrorStream(true).start();
            ProcessLines watch = ProcessLines.of(watcher);
            try {
                assertTrue(watch.await(l -> l.startsWith("watching " + pid), 60), "watch did not start: " + watch);
                OutputStream in = target.getOutputStream();
                in.write("go\n".getBytes(StandardCharsets.UTF_8));
                in.flush();
                String done = CompletableFuture.supplyAsync(() -> {
                    try {
                        return out.readLine();
                    } catch (java.io.IOException e) {
                        return e.toString();
                    }
                }).get(120, TimeUnit.SECONDS);
                assertEquals("done", done);
                // 6 scenarios x 2 sides + the 4 connections opened before the attach
                assertTrue(watch.await(l -> l.matches("tls-autopsy watch " + pid + " .* 16 ending\\(s\\)"), 60),
                        "watch never showed the 16 endings: " + watch);
                run(jcmd.toString(), pid, "JFR.dump", "name=tls", "filename=" + dir.resolve("jcmd.jfr"));
                in.close();
                assertTrue(target.waitFor(60, TimeUnit.SECONDS), "target did not finish");
                assertEquals(0, target.exitValue(), Files.readString(dir.resolve("target-stderr.txt")));
                assertTrue(watcher.waitFor(30, TimeUnit.SECONDS), "watch did not stop when the target exited");
                assertEquals(0, watcher.exitValue());
                assertTrue(watch.await(l -> l.equals("target " + pid + " exited"), 1), watch.toString());
                assertTrue(watch.await(l -> l.matches("TRUNCATED +2 +2 +0"), 1), watch.toString());
            } finally {
                watcher.destroyForcibly();
            }
            Forked.Run summarized = cli(jdk, dir.resolve("summarize"), "summarize", dir.resolve("jcmd.jfr").toString());
            assertEquals(0, summarized.exit(), summarized.stderr());
            assertTrue(summarized.stdout().startsWith("16 connection(s) from 1 file(s)"), summarized.stdout());
        } finally {
            target.destroyForcibly();
        }

        String stderr = Files.readString(dir.resolve("target-stderr.txt"));
        assertEquals(1, stderr.lines().filter(l -> l.contains(": instrumenting ")).count(), stderr);
        assertFalse(stderr.contains("WARNING: A Java agent has been loaded dynamically"), stderr);

        JsonObject r = JsonParser.parseString(Files.readString(dir.resolve("results.json"))).getAsJsonObject();
        assertTrue(r.get("agent").getAsBoolean());
        List<String> failures = new ArrayList<>();
        for (JsonElement e : r.getAsJsonArray("results")) {
            JsonObject s = e.getAsJsonObject();
            String name = s.get("api").getAsString() + " " + s.get("scenario").getAsString();
            for (String k : new String[] {"error", "clientMismatch", "serverMismatch"}) {
                if (!s.get(k).getAsString().isEmpty()) {
                    failures.add(name + " " + k + ": " + s.get(k).getAsString());
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));

        // the connections that were open before the agent came: tracked from their next event on
        List<String> before = new ArrayList<>();
        for (JsonElement e : r.getAsJsonArray("openedBeforeAttach")) {
            JsonObject rec = e.getAsJsonObject();
            before.add(rec.get("api").getAsString() + " " + rec.get("role").getAsString() + " "
                    + rec.get("outcome").getAsString() + " " + rec.get("initiator").getAsString() + " "
                    + rec.get("handshakeCompleted").getAsBoolean() + " " + rec.get("protocol").getAsString());
        }
        before.sort(null);
        assertEquals(List.of(
                "SSLEngine CLIENT CLEAN LOCAL true TLSv1.3", "SSLEngine SERVER CLEAN PEER true TLSv1.3",
                "SSLSocket CLIENT CLEAN LOCAL true TLSv1.3", "SSLSocket SERVER CLEAN PEER true TLSv1.3"), before);

        JsonObject summary = JsonParser.parseString(Files.readString(dir.resolve("summary.json"))).getAsJsonObject();
        assertTrue(summary.get("final").getAsBoolean());
        assertEquals(r.getAsJsonArray("records").size(), summary.get("connections").getAsInt());
        assertEquals(0, summary.get("open").getAsInt());
    }
}
