package dev.tlsautopsy.output;

import com.google.gson.stream.JsonWriter;
import dev.tlsautopsy.classify.Diagnoses;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Outcome;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Writes the JSON summary (SPEC section 5, schema 1): to a temporary file beside the target,
 * created owner read/write only, then renamed over it, so readers never see a partial file.
 */
public final class SummaryWriter {

    public static final int SCHEMA_VERSION = 1;

    private final Path path;
    private final Stats stats;
    private final LongSupplier open;
    private final String agentVersion;
    /** Epoch milliseconds: java.time is loaded only when a summary is written. */
    private final long startedAt = System.currentTimeMillis();
    private boolean warned;

    SummaryWriter(Path path, Stats stats, LongSupplier open, String agentVersion) {
        this.path = path;
        this.stats = stats;
        this.open = open;
        this.agentVersion = agentVersion;
    }

    Path path() {
        return path;
    }

    /** Writes the summary; a failure is reported once, never thrown. */
    synchronized void write(boolean isFinal) {
        Path tmp = null;
        try {
            Path dir = path.toAbsolutePath().getParent();
            tmp = FileSystems.getDefault().supportedFileAttributeViews().contains("posix")
                    ? Files.createTempFile(dir, ".tls-autopsy-", ".tmp",
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createTempFile(dir, ".tls-autopsy-", ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                write(w, isFinal);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException | RuntimeException e) {
            if (!warned) {
                warned = true;
                System.err.println("tls-autopsy: cannot write summary " + path + ": " + e);
            }
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    void write(Writer out, boolean isFinal) throws IOException {
        Stats.Snapshot s = stats.snapshot();
        JsonWriter j = new JsonWriter(out);
        j.setIndent("  ");
        j.beginObject();
        j.name("schemaVersion").value(SCHEMA_VERSION);
        j.name("agentVersion").value(agentVersion);
        j.name("pid").value(ProcessHandle.current().pid());
        j.name("jvm").value(System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
        j.name("startedAt").value(Instant.ofEpochMilli(startedAt).toString());
        j.name("writtenAt").value(Instant.now().toString());
        j.name("final").value(isFinal);
        j.name("connections").value(s.connections);
        j.name("open").value(open.getAsLong());
        j.name("outcomes");
        allOutcomes(j, s.outcomes);
        j.name("handshakeOutcomes");
        allOutcomes(j, s.handshakeOutcomes);
        j.name("byApi").beginObject();
        for (Map.Entry<String, long[]> api : s.byApi.entrySet()) {
            j.name(api.getKey());
            nonZeroOutcomes(j, api.getValue());
        }
        j.endObject();
        j.name("byPeer").beginArray();
        for (Stats.PeerCounts p : s.byPeer) {
            j.beginObject();
            j.name("peer").value(p.peer);
            j.name("connections").value(p.connections);
            j.name("outcomes");
            nonZeroOutcomes(j, p.outcomes);
            j.endObject();
        }
        j.endArray();
        j.name("recent").beginArray();
        for (Ending e : s.recent) {
            record(j, e);
        }
        j.endArray();
        j.name("diagnoses").beginArray();
        for (Diagnoses.Diagnosis d : s.diagnoses) {
            diagnosis(j, d);
        }
        j.endArray();
        j.endObject();
        j.flush();
    }

    static void record(JsonWriter j, Ending e) throws IOException {
        j.beginObject();
        for (Map.Entry<String, Object> f : e.fields().entrySet()) {
            j.name(f.getKey());
            Object v = f.getValue();
            if (v instanceof Number) {
                j.value((Number) v);
            } else if (v instanceof Boolean) {
                j.value((Boolean) v);
            } else {
                j.value(String.valueOf(v));
            }
        }
        j.endObject();
    }

    static void diagnosis(JsonWriter j, Diagnoses.Diagnosis d) throws IOException {
        j.beginObject();
        j.name("kind").value(d.kind());
        j.name("peer").value(d.peer());
        j.name("connections").value(d.connections());
        for (Map.Entry<String, Object> f : d.figures().entrySet()) {
            j.name(f.getKey());
            if (f.getValue() instanceof Number) {
                j.value((Number) f.getValue());
            } else {
                j.value(String.valueOf(f.getValue()));
            }
        }
        j.name("hint").value(d.hint());
        j.endObject();
    }

    private static void allOutcomes(JsonWriter j, long[] counts) throws IOException {
        j.beginObject();
        for (Outcome o : Outcome.all()) {
            j.name(o.name()).value(counts[o.ordinal()]);
        }
        j.endObject();
    }

    private static void nonZeroOutcomes(JsonWriter j, long[] counts) throws IOException {
        j.beginObject();
        for (Outcome o : Outcome.all()) {
            if (counts[o.ordinal()] != 0) {
                j.name(o.name()).value(counts[o.ordinal()]);
            }
        }
        j.endObject();
    }
}
