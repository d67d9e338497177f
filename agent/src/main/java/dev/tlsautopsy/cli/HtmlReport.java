package dev.tlsautopsy.cli;

import com.google.gson.JsonObject;
import dev.tlsautopsy.classify.Diagnoses;
import dev.tlsautopsy.classify.Outcome;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code summarize --html}: the merge as one self-contained page (inline SVG and CSS, no script, nothing
 * fetched), readable from a file in any browser: endings over time by outcome, outcomes per API and per
 * peer, the idle time before unclean endings, the diagnoses with their hints, the last unclean records.
 * Its size is bounded whatever the number of records (charts are binned, tables cut).
 */
final class HtmlReport {

    static final String[] COLORS = {"#2e9d4a", "#f0a030", "#d9641c", "#8e44ad", "#d62728", "#a01040", "#8c564b",
        "#c9b800", "#7f7f7f", "#222222"};
    private static final int TIME_BINS = 60;
    private static final int PEERS_SHOWN = 15;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private HtmlReport() {
    }

    /** Why the report cannot be written there, or null. */
    static String unwritable(Path report) {
        if (Files.isDirectory(report)) {
            return "it is a directory";
        }
        Path dir = report.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            return "no such directory " + dir;
        }
        if (!Files.isWritable(dir)) {
            return "the directory " + dir + " is not writable";
        }
        return null;
    }

    /** Writes the page next to {@code report} and renames it over: never a partial report. */
    static void write(Merged m, Path report, List<Path> files, String agentVersion) throws IOException {
        String page = page(m, files, agentVersion);
        Path dir = report.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, ".tls-autopsy-report-", ".tmp");
        try {
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write(page);
            }
            try {
                Files.move(tmp, report, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, report, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String page(Merged m, List<Path> files, String agentVersion) {
        StringBuilder b = new StringBuilder(64 * 1024);
        long unclean = 0;
        long total = 0;
        for (Outcome o : Outcome.all()) {
            long n = m.outcomes[o.ordinal()] + m.handshakeOutcomes[o.ordinal()];
            total += n;
            if (o != Outcome.CLEAN) {
                unclean += n;
            }
        }
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>tls-autopsy report</title>\n")
                .append("<style>\n")
                .append("body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d2330;background:#fff}\n")
                .append("h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde}\n")
                .append(".meta{color:#556;font-size:13px}.tiles{display:flex;gap:12px;margin:16px 0}\n")
                .append(".tile{border:1px solid #dde;border-radius:6px;padding:10px 16px;min-width:130px}\n")
                .append(".tile b{display:block;font-size:24px}.tile span{font-size:12px;color:#556}\n")
                .append("table{border-collapse:collapse;font-size:12px;width:100%;table-layout:auto}th,td{border-bottom:1px solid #eef;padding:4px 6px;text-align:left;vertical-align:top;white-space:nowrap}td.hint,td.text{white-space:normal;overflow-wrap:anywhere;min-width:16em}\n")
                .append("th{background:#f4f5fa}td.n{text-align:right;font-variant-numeric:tabular-nums}\n")
                .append(".legend span{display:inline-block;margin:0 12px 4px 0;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}\n")
                .append(".hint{font-size:13px}.kind{font-weight:600;white-space:nowrap}.note{color:#667;font-size:12px}\n")
                .append("svg text{font-size:11px;fill:#334}\n")
                .append("</style></head><body>\n");
        b.append("<h1>tls-autopsy report</h1>\n<div class=\"meta\">");
        b.append(m.connections).append(" finished connection(s), ").append(m.open).append(" still open, from ")
                .append(m.files).append(" file(s): ");
        List<String> names = new ArrayList<>();
        for (Path f : files) {
            names.add(f.getFileName().toString());
        }
        b.append(esc(String.join(", ", names.subList(0, Math.min(10, names.size())))))
                .append(names.size() > 10 ? ", ..." : "")
                .append(". Written ").append(TIME.format(Instant.now())).append(" by tls-autopsy ").append(esc(agentVersion))
                .append(".</div>\n");
        b.append("<div class=\"tiles\">");
        tile(b, Long.toString(total), "endings");
        tile(b, Long.toString(unclean), "unclean (" + (total == 0 ? 0 : Math.round(100.0 * unclean / total)) + " %)");
        long handshake = 0;
        for (long n : m.handshakeOutcomes) {
            handshake += n;
        }
        tile(b, Long.toString(handshake), "ended during the handshake");
        tile(b, Integer.toString(m.diagnoses().size()), "diagnoses");
        b.append("</div>\n");
        if (total == 0) {
            b.append("<p>No ending was recorded in these files.</p>\n");
        }
        legend(b);

        b.append("<h2>Endings over time</h2>\n");
        timeline(b, m);

        b.append("<h2>Outcomes per API</h2>\n");
        List<String> labels = new ArrayList<>();
        List<long[]> rows = new ArrayList<>();
        for (Map.Entry<String, long[]> api : m.byApi.entrySet()) {
            labels.add(api.getKey());
            rows.add(api.getValue());
        }
        bars(b, labels, rows);

        b.append("<h2>Outcomes per peer, most unclean first</h2>\n");
        labels = new ArrayList<>();
        rows = new ArrayList<>();
        List<Merged.Peer> peers = m.peers();
        for (Merged.Peer p : peers.subList(0, Math.min(PEERS_SHOWN, peers.size()))) {
            labels.add(p.name);
            rows.add(p.outcomes);
        }
        if (labels.isEmpty()) {
            b.append("<p class=\"note\">No peer.</p>\n");
        } else {
            bars(b, labels, rows);
            if (peers.size() > PEERS_SHOWN) {
                b.append("<p class=\"note\">").append(peers.size() - PEERS_SHOWN).append(" more peer(s) in summarize --json.</p>\n");
            }
        }

        b.append("<h2>Idle time before unclean endings</h2>\n");
        histogram(b, m.idleHistogram);

        b.append("<h2>Diagnoses</h2>\n");
        List<Diagnoses.Diagnosis> diagnoses = m.diagnoses();
        if (diagnoses.isEmpty()) {
            b.append("<p class=\"note\">None: the records show no idle timeout, stale pooled connection or failing handshakes.</p>\n");
        } else {
            b.append("<table><tr><th>kind</th><th>peer</th><th>connections</th><th>what happened, what to do</th></tr>\n");
            for (Diagnoses.Diagnosis d : diagnoses) {
                b.append("<tr><td class=\"kind\">").append(esc(d.kind())).append("</td><td>").append(esc(d.peer()))
                        .append("</td><td class=\"n\">").append(d.connections()).append("</td><td class=\"hint\">")
                        .append(esc(d.hint())).append("</td></tr>\n");
            }
            b.append("</table>\n");
        }

        b.append("<h2>Last unclean endings</h2>\n");
        List<JsonObject> recent = m.lastRecent();
        Collections.reverse(recent);
        if (recent.isEmpty()) {
            b.append("<p class=\"note\">None.</p>\n");
        } else {
            b.append("<table><tr><th>outcome</th><th>initiator</th><th>api</th><th>role</th><th>peer</th>")
                    .append("<th>alert</th><th>app saw</th><th>idle ms</th><th>noticed after ms</th><th>exception</th></tr>\n");
            for (JsonObject r : recent.subList(0, Math.min(50, recent.size()))) {
                String outcome = text(r, "outcome");
                int o = Outcome.valueOf(outcome).ordinal();
                b.append("<tr><td><i style=\"display:inline-block;width:9px;height:9px;background:").append(COLORS[o])
                        .append("\"></i> ").append(esc(outcome)).append("</td><td>").append(esc(text(r, "initiator")))
                        .append("</td><td>").append(esc(text(r, "api"))).append("</td><td>").append(esc(text(r, "role")))
                        .append("</td><td>").append(esc(text(r, "peerHost") + ":" + text(r, "peerPort")))
                        .append("</td><td>").append(esc(text(r, "alert") + (text(r, "alertDirection").isEmpty() ? ""
                                : " (" + text(r, "alertDirection").toLowerCase(Locale.ROOT) + ")")))
                        .append("</td><td>").append(esc(text(r, "appSaw"))).append("</td><td class=\"n\">")
                        .append(esc(text(r, "idleMillis"))).append("</td><td class=\"n\">").append(esc(text(r, "noticedAfterMillis")))
                        .append("</td><td class=\"text\">").append(esc(text(r, "exception"))).append("</td></tr>\n");
            }
            b.append("</table>\n");
        }
        b.append("<p class=\"note\">Outcomes, fields and diagnoses: docs/reading.md and docs/outcomes.md of tls-autopsy.</p>\n");
        b.append("</body></html>\n");
        return b.toString();
    }

    private static String text(JsonObject r, String name) {
        return r.has(name) && !r.get(name).isJsonNull() ? r.get(name).getAsString() : "";
    }

    private static void tile(StringBuilder b, String value, String label) {
        b.append("<div class=\"tile\"><b>").append(esc(value)).append("</b><span>").append(esc(label)).append("</span></div>");
    }

    private static void legend(StringBuilder b) {
        b.append("<div class=\"legend\">");
        for (Outcome o : Outcome.all()) {
            b.append("<span><i style=\"background:").append(COLORS[o.ordinal()]).append("\"></i>").append(o.name()).append("</span>");
        }
        b.append("</div>\n");
    }

    /** Stacked columns of endings per time bin, by outcome (recordings); one column per summary otherwise. */
    private static void timeline(StringBuilder b, Merged m) {
        long[][] t = m.timeline();
        List<long[]> columns = new ArrayList<>();
        List<String> ticks = new ArrayList<>();
        if (t.length > 0) {
            long min = Long.MAX_VALUE;
            long max = Long.MIN_VALUE;
            for (long[] e : t) {
                min = Math.min(min, e[0]);
                max = Math.max(max, e[0]);
            }
            long width = Math.max(1, (max - min + TIME_BINS) / TIME_BINS);
            int bins = (int) Math.min(TIME_BINS, (max - min) / width + 1);
            for (int i = 0; i < bins; i++) {
                columns.add(new long[Merged.N]);
            }
            for (long[] e : t) {
                columns.get((int) Math.min(bins - 1, (e[0] - min) / width))[(int) e[1]]++;
            }
            ticks.add(TIME.format(Instant.ofEpochMilli(min)));
            ticks.add(TIME.format(Instant.ofEpochMilli(min + width * bins)));
            b.append("<p class=\"note\">From the recordings: ").append(t.length).append(" ending(s), in bins of ")
                    .append(duration(width)).append(".</p>\n");
        } else if (!m.summaryPoints.isEmpty()) {
            List<long[]> points = new ArrayList<>(m.summaryPoints);
            points.sort((x, y) -> Long.compare(x[Merged.N], y[Merged.N]));
            for (long[] p : points) {
                columns.add(p);
            }
            ticks.add(TIME.format(Instant.ofEpochMilli(points.get(0)[Merged.N])));
            ticks.add(TIME.format(Instant.ofEpochMilli(points.get(points.size() - 1)[Merged.N])));
            b.append("<p class=\"note\">Summaries carry counts, not times: one column per summary, at the time it was written.")
                    .append(" A JFR recording (recording=app.jfr) gives the endings' own times.</p>\n");
        }
        if (columns.isEmpty()) {
            b.append("<p class=\"note\">Nothing to show.</p>\n");
            return;
        }
        long top = 1;
        for (long[] c : columns) {
            long sum = 0;
            for (int i = 0; i < Merged.N; i++) {
                sum += c[i];
            }
            top = Math.max(top, sum);
        }
        int w = 900;
        int h = 220;
        int left = 50;
        double colWidth = (double) (w - left - 10) / columns.size();
        b.append("<svg width=\"").append(w).append("\" height=\"").append(h + 30).append("\" role=\"img\" aria-label=\"endings over time\">");
        axis(b, left, h, w, top);
        for (int c = 0; c < columns.size(); c++) {
            double y = h;
            for (int o = 0; o < Merged.N; o++) {
                long n = columns.get(c)[o];
                if (n == 0) {
                    continue;
                }
                double height = (double) n / top * (h - 10);
                y -= height;
                b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %d</title></rect>",
                        left + c * colWidth + 1, y, Math.max(1, colWidth - 2), height, COLORS[o], Outcome.all()[o].name(), n));
            }
        }
        b.append("<text x=\"").append(left).append("\" y=\"").append(h + 16).append("\">").append(esc(ticks.get(0))).append("</text>");
        b.append("<text x=\"").append(w - 10).append("\" y=\"").append(h + 16).append("\" text-anchor=\"end\">")
                .append(esc(ticks.get(ticks.size() - 1))).append("</text>");
        b.append("</svg>\n");
    }

    private static void axis(StringBuilder b, int left, int h, int w, long top) {
        b.append("<line x1=\"").append(left).append("\" y1=\"").append(h).append("\" x2=\"").append(w - 10)
                .append("\" y2=\"").append(h).append("\" stroke=\"#99a\"/>");
        b.append("<line x1=\"").append(left).append("\" y1=\"10\" x2=\"").append(left).append("\" y2=\"").append(h)
                .append("\" stroke=\"#99a\"/>");
        b.append("<text x=\"").append(left - 6).append("\" y=\"14\" text-anchor=\"end\">").append(top).append("</text>");
        b.append("<text x=\"").append(left - 6).append("\" y=\"").append(h).append("\" text-anchor=\"end\">0</text>");
    }

    /** One horizontal bar per label, stacked by outcome, with its total. */
    private static void bars(StringBuilder b, List<String> labels, List<long[]> rows) {
        long top = 1;
        for (long[] r : rows) {
            long sum = 0;
            for (long n : r) {
                sum += n;
            }
            top = Math.max(top, sum);
        }
        int w = 900;
        int labelWidth = 260;
        int row = 22;
        b.append("<svg width=\"").append(w).append("\" height=\"").append(rows.size() * row + 6).append("\" role=\"img\">");
        for (int i = 0; i < rows.size(); i++) {
            int y = i * row + 3;
            b.append("<text x=\"").append(labelWidth - 8).append("\" y=\"").append(y + 14).append("\" text-anchor=\"end\">")
                    .append(esc(shorten(labels.get(i), 40))).append("</text>");
            double x = labelWidth;
            long sum = 0;
            for (int o = 0; o < Merged.N; o++) {
                long n = rows.get(i)[o];
                if (n == 0) {
                    continue;
                }
                sum += n;
                double width = (double) n / top * (w - labelWidth - 80);
                b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"><title>%s: %d</title></rect>",
                        x, y, Math.max(1, width), COLORS[o], Outcome.all()[o].name(), n));
                x += width;
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%d</text>", x + 6, y + 13, sum));
        }
        b.append("</svg>\n");
    }

    private static void histogram(StringBuilder b, long[] bins) {
        long top = 1;
        long total = 0;
        for (long n : bins) {
            top = Math.max(top, n);
            total += n;
        }
        if (total == 0) {
            b.append("<p class=\"note\">No unclean ending after a completed handshake.</p>\n");
            return;
        }
        int w = 900;
        int h = 180;
        int left = 50;
        double colWidth = (double) (w - left - 10) / bins.length;
        b.append("<svg width=\"").append(w).append("\" height=\"").append(h + 30).append("\" role=\"img\" aria-label=\"idle time histogram\">");
        axis(b, left, h, w, top);
        for (int i = 0; i < bins.length; i++) {
            double height = (double) bins[i] / top * (h - 10);
            b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#5b7fbf\"><title>%d</title></rect>",
                    left + i * colWidth + 2, h - height, colWidth - 4, height, bins[i]));
            String label = i == 0 ? "<= 1 s" : i < Merged.IDLE_BINS.length ? "<= " + seconds(Merged.IDLE_BINS[i])
                    : "> " + seconds(Merged.IDLE_BINS[Merged.IDLE_BINS.length - 1]);
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                    left + (i + 0.5) * colWidth, h + 16, esc(label)));
            if (bins[i] > 0) {
                b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>",
                        left + (i + 0.5) * colWidth, h - height - 3, bins[i]));
            }
        }
        b.append("</svg>\n<p class=\"note\">").append(total)
                .append(" unclean ending(s) with a known idle time: how long no application data had moved before the decisive event.</p>\n");
    }

    private static String seconds(double s) {
        return s >= 60 ? String.format(Locale.ROOT, "%.0f min", s / 60) : String.format(Locale.ROOT, "%.0f s", s);
    }

    private static String duration(long millis) {
        return millis >= 60_000 ? String.format(Locale.ROOT, "%.1f min", millis / 60_000.0)
                : millis >= 1000 ? String.format(Locale.ROOT, "%.1f s", millis / 1000.0) : millis + " ms";
    }

    private static String shorten(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "\u2026";
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<': b.append("&lt;"); break;
                case '>': b.append("&gt;"); break;
                case '&': b.append("&amp;"); break;
                case '"': b.append("&quot;"); break;
                case '\'': b.append("&#39;"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }
}
