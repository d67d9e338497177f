package dev.tlsautopsy.demo;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a JVM the way users do, with the agent jar, and stops it whatever happens. */
public final class Forked {

    public static final Path AGENT = Paths.get(System.getProperty("tlsautopsy.agentJar", "../agent/target/tls-autopsy-agent.jar"))
            .toAbsolutePath().normalize();
    static final Path DEMO = Paths.get(System.getProperty("tlsautopsy.demoJar", "target/tls-autopsy-demo.jar"))
            .toAbsolutePath().normalize();
    static final List<String> DEFAULT_JDKS =
            List.of("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/temurin-25-jdk-amd64");

    private Forked() {
    }

    /** The JDKs every forked test runs on; {@code -Dtlsautopsy.jdks=a,b} overrides. A missing one fails loudly. */
    public static List<String> jdks() {
        String p = System.getProperty("tlsautopsy.jdks");
        List<String> jdks = p == null || p.isBlank() ? DEFAULT_JDKS : List.of(p.split(","));
        for (String j : jdks) {
            if (!Files.isExecutable(Paths.get(j, "bin", "java"))) {
                throw new IllegalStateException("JDK not found at " + j + " (set -Dtlsautopsy.jdks=...)");
            }
        }
        return jdks;
    }

    public static String shortName(String jdk) {
        return jdk.contains("25") ? "jdk25" : jdk.contains("17") ? "jdk17" : Paths.get(jdk).getFileName().toString();
    }

    public record Run(int exit, String stdout, String stderr, Path dir) {
        public List<String> agentLines() {
            List<String> out = new ArrayList<>();
            for (String l : stderr.split("\n")) {
                if (l.startsWith("tls-autopsy")) {
                    out.add(l);
                }
            }
            return out;
        }

        public JsonObject results() throws IOException {
            return JsonParser.parseString(Files.readString(dir.resolve("results.json"))).getAsJsonObject();
        }
    }

    /** Runs {@code jvmArgs + mainClass + args} in {@code dir} with a bounded time; kills it if it overruns. */
    /** The demo's classes with Netty 4.1 instead of the 4.2 its jar's Class-Path names. */
    static final String NETTY41_CLASSPATH = DEMO.getParent().resolve("classes") + File.pathSeparator
            + DEMO.getParent().resolve("netty41") + File.separator + "*";

    public static Run java(String jdk, Path dir, List<String> jvmArgs, String mainClass, List<String> args, long timeoutSeconds)
            throws IOException, InterruptedException {
        return java(jdk, dir, jvmArgs, DEMO.toString(), mainClass, args, timeoutSeconds);
    }

    public static Run java(String jdk, Path dir, List<String> jvmArgs, String classpath, String mainClass, List<String> args,
                    long timeoutSeconds) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(jdk, "bin", "java").toString());
        // the JDK's own classes verified too (the JVM skips it by default): a class the agent wove wrongly
        // fails here, with a VerifyError, instead of misbehaving
        cmd.add("-XX:+UnlockDiagnosticVMOptions");
        cmd.add("-XX:+BytecodeVerificationLocal");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
        cmd.addAll(args);
        File out = dir.resolve("stdout.txt").toFile();
        File err = dir.resolve("stderr.txt").toFile();
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out).redirectError(err).start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("forked JVM did not finish in " + timeoutSeconds + " s: " + cmd
                        + "\nstderr: " + Files.readString(err.toPath(), StandardCharsets.UTF_8));
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
                Files.readString(err.toPath(), StandardCharsets.UTF_8), dir);
    }

    public static String agentArg(String options) {
        return "-javaagent:" + AGENT + (options == null || options.isEmpty() ? "" : "=" + options);
    }
}
