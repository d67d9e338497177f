package dev.tlsautopsy.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code summarize --html}: a report of a real run, of nothing, and of 100,000 endings, each opened in a
 * real browser (headless Chromium, Debian's package: .ci/run installs it), which must show what the page
 * says it shows: the sections, the diagnoses, the last unclean records; and a report of 100,000 endings
 * stays small. Bad output paths are refused in one line with nothing left behind.
 */
class ReportIT {

    static final String JDK = Forked.jdks().get(0);
    static final Path CHROMIUM = Paths.get(System.getProperty("tlsautopsy.chromium", "/usr/bin/chromium"));

    @Test
    void aRealRunOpensInABrowser(@TempDir Path dir) throws Exception {
        Forked.Run run = Forked.java(JDK, dir.resolve("run"), List.of(Forked.agentArg("recording=run.jfr,summary=run.json,interval=0")),
                "dev.tlsautopsy.demo.scenario.ScenarioMain", List.of("--api", "SSLSocket", "--out", "results.json",
                        "clean-close-client", "truncated", "reset-on-read", "bad-record-mac", "untrusted-certificate",
                        "short-read-body"), 120);
        assertEquals(0, run.exit(), run.stderr());
        Path report = dir.resolve("report.html");
        Forked.Run cli = AttachIT.cli(JDK, dir.resolve("cli"), "summarize", "--html", report.toString(),
                dir.resolve("run").resolve("run.jfr").toString());
        assertEquals(0, cli.exit(), cli.stderr());
        assertTrue(cli.stdout().startsWith("report: " + report), cli.stdout());
        String html = Files.readString(report);
        selfContained(html);
        String dom = dom(report, dir);
        for (String section : new String[] {"Endings over time", "Outcomes per API", "Outcomes per peer", "Idle time before unclean endings",
            "Diagnoses", "Last unclean endings"}) {
            assertTrue(dom.contains(section), section + " in " + dom);
        }
        assertTrue(dom.contains("12 finished connection(s)"), dom);
        assertTrue(dom.contains("HANDSHAKE_FAILURES") && dom.contains("failed with certificate_unknown"), dom);
        assertTrue(dom.contains("Tag mismatch"), "the last unclean records with their exceptions: " + dom);
        BufferedImage png = screenshot(report, dir, "run.png");
        assertTrue(coloured(png) > 2000, "the charts are drawn in the outcomes' colours, far beyond the legend's squares");
    }

    @Test
    void nothingToReportIsSaidSo(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.json"), "{\"schemaVersion\":1,\"agentVersion\":\"0.1.0\",\"pid\":1,"
                + "\"jvm\":\"x\",\"startedAt\":\"2026-11-25T21:00:00Z\",\"writtenAt\":\"2026-11-25T21:05:00Z\",\"final\":true,"
                + "\"connections\":0,\"open\":0,\"outcomes\":{},\"handshakeOutcomes\":{},\"byApi\":{},\"byPeer\":[],\"recent\":[],"
                + "\"diagnoses\":[]}");
        Path report = dir.resolve("empty.html");
        Forked.Run cli = AttachIT.cli(JDK, dir.resolve("cli"), "summarize", "--html", report.toString(), empty.toString());
        assertEquals(0, cli.exit(), cli.stderr());
        String dom = dom(report, dir);
        assertTrue(dom.contains("No ending was recorded in these files."), dom);
        assertTrue(dom.contains("None: the records show no idle timeout"), dom);
        screenshot(report, dir, "empty.png");
    }

    @Test
    void aHundredThousandEndingsStayReadable(@TempDir Path dir) throws Exception {
        Forked.Run run = Forked.java(JDK, dir.resolve("run"), List.of(Forked.agentArg("recording=big.jfr,summary=big.json,interval=0")),
                "dev.tlsautopsy.demo.bench.BenchChild", List.of("finished", "100000"), 600);
        assertEquals(0, run.exit(), run.stderr());
        Path report = dir.resolve("big.html");
        Forked.Run cli = AttachIT.cli(JDK, dir.resolve("cli"), "summarize", "--html", report.toString(),
                dir.resolve("run").resolve("big.jfr").toString());
        assertEquals(0, cli.exit(), cli.stderr());
        assertTrue(cli.stdout().contains("(100000 connection(s) from 1 file(s))"), cli.stdout());
        assertTrue(Files.size(report) < 200_000, "bounded: " + Files.size(report) + " bytes");
        String dom = dom(report, dir);
        assertTrue(dom.contains("100000 finished connection(s)"), dom);
        assertTrue(dom.contains("From the recordings: 100000 ending(s)"), dom);
        screenshot(report, dir, "big.png");
    }

    @Test
    void badOutputPathsAreRefusedInOneLine(@TempDir Path dir) throws Exception {
        Path summary = Files.writeString(dir.resolve("s.json"), "{\"schemaVersion\":1,\"agentVersion\":\"0.1.0\",\"pid\":1,"
                + "\"jvm\":\"x\",\"startedAt\":\"2026-11-25T21:00:00Z\",\"writtenAt\":\"2026-11-25T21:05:00Z\",\"final\":true,"
                + "\"connections\":0,\"open\":0,\"outcomes\":{},\"handshakeOutcomes\":{},\"byApi\":{},\"byPeer\":[],\"recent\":[]}");
        Path noDir = dir.resolve("missing").resolve("r.html");
        Forked.Run a = AttachIT.cli(JDK, dir.resolve("a"), "summarize", "--html", noDir.toString(), summary.toString());
        assertEquals(1, a.exit());
        assertEquals("tls-autopsy: cannot write the report to " + noDir + ": no such directory " + noDir.getParent(),
                a.stderr().trim());
        Forked.Run b = AttachIT.cli(JDK, dir.resolve("b"), "summarize", "--html", dir.toString(), summary.toString());
        assertEquals(1, b.exit());
        assertEquals("tls-autopsy: cannot write the report to " + dir + ": it is a directory", b.stderr().trim());
        Path report = dir.resolve("never.html");
        Forked.Run c = AttachIT.cli(JDK, dir.resolve("c"), "summarize", "--html", report.toString(),
                dir.resolve("nothing.json").toString());
        assertEquals(1, c.exit());
        assertEquals(List.of("tls-autopsy: skipping " + dir.resolve("nothing.json") + ": no such file",
                "tls-autopsy: no file could be read"), c.stderr().lines().toList());
        Forked.Run d = AttachIT.cli(JDK, dir.resolve("d"), "summarize", "--html");
        assertEquals(2, d.exit());
        assertEquals(1, d.stderr().lines().count(), d.stderr());
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".html")
                    || p.getFileName().toString().startsWith(".tls-autopsy-report")), "no report, no partial file");
        }
    }

    /** Nothing the page needs comes from elsewhere. */
    static void selfContained(String html) {
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.contains("<link"), "no stylesheet to fetch");
        assertFalse(html.contains("src=\"http") || html.contains("url(http") || html.contains("@import"), "nothing fetched");
    }

    static List<String> chromium(Path dir, String... args) {
        assertTrue(Files.isExecutable(CHROMIUM), "headless Chromium is needed (Debian package chromium): " + CHROMIUM);
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("chromium-profile")));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The page as the browser built it. */
    static String dom(Path report, Path dir) throws Exception {
        Process p = new ProcessBuilder(chromium(dir, "--dump-dom", report.toUri().toString()))
                .redirectError(dir.resolve("chromium-dom.txt").toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("Chromium did not finish");
        }
        assertTrue(dom.contains("<h1>tls-autopsy report</h1>"), "Chromium rendered the page: " + dom);
        return dom;
    }

    /** The page as the browser drew it. */
    static BufferedImage screenshot(Path report, Path dir, String name) throws Exception {
        Path png = dir.resolve(name);
        Process p = new ProcessBuilder(chromium(dir, "--window-size=1000,2400", "--screenshot=" + png, report.toUri().toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("chromium-shot.txt").toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("Chromium did not finish");
        }
        BufferedImage image = ImageIO.read(png.toFile());
        assertTrue(image != null && image.getWidth() == 1000, "a screenshot of the page");
        if (System.getProperty("tlsautopsy.keepScreenshots") != null) {
            Files.copy(png, Paths.get(System.getProperty("tlsautopsy.keepScreenshots")).resolve(name),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return image;
    }

    /** Pixels in the outcomes' colours (the legend's ten squares are 1,000 of them). */
    static int coloured(BufferedImage image) {
        int[] wanted = {0x2e9d4a, 0xf0a030, 0xd9641c, 0x8e44ad, 0xd62728, 0xa01040, 0x8c564b, 0xc9b800, 0x7f7f7f};
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xFFFFFF;
                for (int w : wanted) {
                    if (rgb == w) {
                        n++;
                        break;
                    }
                }
            }
        }
        return n;
    }
}
