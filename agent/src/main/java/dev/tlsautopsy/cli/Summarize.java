package dev.tlsautopsy.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.tlsautopsy.classify.Outcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * {@code summarize FILE... [--json | --html REPORT.html]}: JFR recordings and JSON summaries from any
 * number of JVMs, merged, as a table, one merged summary, or a self-contained HTML report. An unreadable
 * file is named and skipped; the rest is still summarized (exit 1).
 */
final class Summarize {

    static final String EVENT = "dev.tlsautopsy.ConnectionEnd";
    static final String USAGE = "summarize FILE... [--json | --html REPORT.html]";
    static final String[] FIELDS = {"connectionId", "outcome", "initiator", "handshakeCompleted", "closeNotifySent",
        "closeNotifyReceived", "alert", "alertDirection", "appSaw", "exception", "api", "implementation", "role",
        "peerHost", "peerPort", "localPort", "protocol", "cipherSuite", "bytesIn", "bytesOut", "durationMillis", "idleMillis", "noticedAfterMillis"};

    private Summarize() {
    }

    static int run(String[] args, PrintStream out, PrintStream err, String agentVersion) {
        boolean json = false;
        Path html = null;
        List<Path> files = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--json")) {
                json = true;
            } else if (args[i].equals("--html")) {
                if (i + 1 >= args.length || args[i + 1].startsWith("-")) {
                    err.println("tls-autopsy: --html needs the report's path; usage: " + USAGE);
                    return 2;
                }
                html = Paths.get(args[++i]);
            } else if (args[i].startsWith("-")) {
                err.println("tls-autopsy: unknown flag '" + args[i] + "' for summarize; usage: " + USAGE);
                return 2;
            } else {
                files.add(Paths.get(args[i]));
            }
        }
        if (files.isEmpty()) {
            err.println("tls-autopsy: usage: " + USAGE + " (.jfr recordings and .json summaries)");
            return 2;
        }
        if (json && html != null) {
            err.println("tls-autopsy: --json and --html are two different outputs; give one");
            return 2;
        }
        if (html != null) {
            String unwritable = HtmlReport.unwritable(html);
            if (unwritable != null) {
                err.println("tls-autopsy: cannot write the report to " + html + ": " + unwritable);
                return 1;
            }
        }
        Merged m = new Merged();
        int failed = 0;
        for (Path f : files) {
            try {
                read(f, m);
                m.files++;
            } catch (Exception e) {
                failed++;
                err.println("tls-autopsy: skipping " + f + ": " + reason(e));
            }
        }
        if (m.files == 0) {
            err.println("tls-autopsy: no file could be read");
            return 1;
        }
        if (json) {
            out.println(new GsonBuilder().setPrettyPrinting().create().toJson(m.toJson(agentVersion)));
        } else if (html != null) {
            try {
                HtmlReport.write(m, html, files, agentVersion);
            } catch (IOException e) {
                err.println("tls-autopsy: cannot write the report to " + html + ": " + reason(e));
                return 1;
            }
            out.println("report: " + html.toAbsolutePath() + " (" + m.connections + " connection(s) from " + m.files
                    + " file(s))");
        } else {
            Table.print(m, out);
        }
        return failed == 0 ? 0 : 1;
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replace('\n', ' ');
    }

    static void read(Path f, Merged m) throws IOException {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(f)) {
            int n = in.readNBytes(head, 0, 4);
            if (n == 4 && head[0] == 'F' && head[1] == 'L' && head[2] == 'R' && head[3] == 0) {
                try {
                    readRecording(f, m);
                } catch (IOException | RuntimeException e) {
                    throw new IOException("a JFR recording that cannot be read (truncated, or still being written?): "
                            + e.getMessage());
                }
                return;
            }
        }
        JsonObject s;
        try {
            s = JsonParser.parseString(Files.readString(f, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (java.nio.charset.CharacterCodingException | RuntimeException e) {
            throw new IOException("neither a JFR recording nor a JSON summary");
        }
        if (!s.has("schemaVersion") || s.get("schemaVersion").getAsInt() != 1) {
            throw new IOException("not a tls-autopsy summary of schema version 1");
        }
        try {
            m.addSummary(s);
        } catch (RuntimeException e) {
            throw new IOException("malformed summary: " + e.getMessage());
        }
    }

    private static void readRecording(Path f, Merged m) throws IOException {
        List<JsonObject> records = new ArrayList<>();
        List<Long> ends = new ArrayList<>();
        try (RecordingFile rf = new RecordingFile(f)) {
            while (rf.hasMoreEvents()) {
                RecordedEvent e = rf.readEvent();
                if (e.getEventType().getName().equals(EVENT)) {
                    records.add(record(e));
                    ends.add(e.getEndTime().toEpochMilli());
                }
            }
        }
        // only complete files count: add the records once the whole recording was read
        for (int i = 0; i < records.size(); i++) {
            m.addRecord(records.get(i), ends.get(i));
        }
    }

    static JsonObject record(RecordedEvent e) {
        JsonObject r = new JsonObject();
        for (String name : FIELDS) {
            if (!e.hasField(name)) {
                continue;   // a recording of an older agent
            }
            Object v = e.getValue(name);
            if (v instanceof Number) {
                r.addProperty(name, (Number) v);
            } else if (v instanceof Boolean) {
                r.addProperty(name, (Boolean) v);
            } else {
                r.addProperty(name, v == null ? "" : v.toString());
            }
        }
        return r;
    }

    /** Plain-text tables for people. */
    static final class Table {
        private Table() {
        }

        static void print(Merged m, PrintStream out) {
            out.printf("%d connection(s) from %d file(s), %d still open%n%n", m.connections, m.files, m.open);
            out.printf("%-15s %8s %11s %11s", "outcome", "total", "handshake", "during");
            for (String api : m.byApi.keySet()) {
                out.printf(" %10s", api);
            }
            out.println();
            for (Outcome o : Outcome.all()) {
                int i = o.ordinal();
                out.printf("%-15s %8d %11d %11d", o.name(), m.outcomes[i] + m.handshakeOutcomes[i], m.outcomes[i],
                        m.handshakeOutcomes[i]);
                for (long[] c : m.byApi.values()) {
                    out.printf(" %10d", c[i]);
                }
                out.println();
            }
            List<Merged.Peer> peers = m.peers();
            if (!peers.isEmpty()) {
                out.printf("%npeers, most unclean first:%n");
                out.printf("  %-40s %11s %8s  %s%n", "peer", "connections", "unclean", "outcomes");
                for (Merged.Peer p : peers.subList(0, Math.min(15, peers.size()))) {
                    StringBuilder b = new StringBuilder();
                    for (Outcome o : Outcome.all()) {
                        if (p.outcomes[o.ordinal()] != 0) {
                            b.append(o.name()).append('=').append(p.outcomes[o.ordinal()]).append(' ');
                        }
                    }
                    out.printf("  %-40s %11d %8d  %s%n", p.name, p.connections, p.unclean(), b.toString().trim());
                }
                if (peers.size() > 15) {
                    out.printf("  ... %d more (summarize --json lists up to %d)%n", peers.size() - 15, Merged.MAX_PEERS);
                }
            }
            List<dev.tlsautopsy.classify.Diagnoses.Diagnosis> diagnoses = m.diagnoses();
            if (!diagnoses.isEmpty()) {
                out.printf("%ndiagnoses:%n");
                for (dev.tlsautopsy.classify.Diagnoses.Diagnosis d : diagnoses.subList(0, Math.min(10, diagnoses.size()))) {
                    out.printf("  %-18s %s%n", d.kind(), d.hint());
                }
            }
            List<JsonObject> recent = m.lastRecent();
            if (!recent.isEmpty()) {
                out.printf("%nlast unclean endings:%n");
                for (JsonObject r : recent.subList(Math.max(0, recent.size() - 10), recent.size())) {
                    out.printf("  %-14s %-7s %-9s %-6s %s:%s %s%n", r.get("outcome").getAsString(),
                            r.get("initiator").getAsString(), r.get("api").getAsString(), r.get("role").getAsString(),
                            r.get("peerHost").getAsString(), r.get("peerPort").getAsString(),
                            r.get("exception").getAsString());
                }
            }
        }
    }
}
