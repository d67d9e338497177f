package dev.tlsautopsy.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.tlsautopsy.classify.Diagnoses;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Endings and summaries from many JVMs, added up in the summary's terms (SPEC section 5), in bounded
 * memory: counts, the last unclean records, what the diagnoses need, when endings happened (recordings
 * only) and the idle times before unclean endings.
 */
final class Merged {

    static final String[] APIS = {"SSLSocket", "SSLEngine", "Netty"};
    static final int N = Outcome.all().length;
    static final int MAX_PEERS = 100;
    static final int MAX_RECENT = 100;
    /** Upper bounds of the idle-time histogram's bins, in seconds (the last bin is everything above). */
    static final double[] IDLE_BINS = {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};

    static final class Peer {
        final String name;
        long connections;
        final long[] outcomes = new long[N];

        Peer(String name) {
            this.name = name;
        }

        long unclean() {
            return connections - outcomes[Outcome.CLEAN.ordinal()];
        }
    }

    long connections;
    long open;
    final long[] outcomes = new long[N];
    final long[] handshakeOutcomes = new long[N];
    final Map<String, long[]> byApi = new LinkedHashMap<>();
    final Map<String, Peer> byPeer = new HashMap<>();
    private final ArrayDeque<JsonObject> recent = new ArrayDeque<>();
    private final Map<String, Diagnoses.PeerEvidence> evidence = new HashMap<>();
    private final List<Diagnoses.Diagnosis> summaryDiagnoses = new ArrayList<>();
    /** Idle times before unclean endings, binned by {@link #IDLE_BINS}. */
    final long[] idleHistogram = new long[IDLE_BINS.length + 1];
    /** When each recorded ending happened (epoch ms) and its outcome: recordings only. */
    private long[] times = new long[1024];
    private byte[] timeOutcomes = new byte[1024];
    int timed;
    /** Summaries: when each was written and its counts. */
    final List<long[]> summaryPoints = new ArrayList<>();
    int files;
    boolean allFinal = true;
    Instant startedAt;

    Merged() {
        for (String api : APIS) {
            byApi.put(api, new long[N]);
        }
    }

    /** One ending record (from a JFR event), with the record's fields; {@code endMillis} when it happened. */
    void addRecord(JsonObject r, long endMillis) {
        int o = Outcome.valueOf(r.get("outcome").getAsString()).ordinal();
        connections++;
        (r.get("handshakeCompleted").getAsBoolean() ? outcomes : handshakeOutcomes)[o]++;
        byApi.computeIfAbsent(r.get("api").getAsString(), k -> new long[N])[o]++;
        Ending e = ending(r);
        String key = e.peerKey();
        Peer p = byPeer.computeIfAbsent(key, Peer::new);
        p.connections++;
        p.outcomes[o]++;
        evidence.computeIfAbsent(key, k -> new Diagnoses.PeerEvidence(k, "CLIENT".equals(e.role()))).add(e);
        if (o != Outcome.CLEAN.ordinal()) {
            keepRecent(r);
            idle(e.idleMillis());
        }
        if (timed == times.length) {
            times = Arrays.copyOf(times, timed * 2);
            timeOutcomes = Arrays.copyOf(timeOutcomes, timed * 2);
        }
        times[timed] = endMillis;
        timeOutcomes[timed++] = (byte) o;
    }

    private void keepRecent(JsonObject r) {
        if (recent.size() == MAX_RECENT) {
            recent.removeFirst();
        }
        recent.addLast(r);
    }

    private void idle(long millis) {
        if (millis < 0) {
            return;
        }
        int bin = 0;
        while (bin < IDLE_BINS.length && millis > IDLE_BINS[bin] * 1000) {
            bin++;
        }
        idleHistogram[bin]++;
    }

    /** A record's fields as an {@link Ending} (absent fields, from older recordings: unknown). */
    static Ending ending(JsonObject r) {
        return new Ending(l(r, "connectionId"), Outcome.valueOf(s(r, "outcome")), Initiator.valueOf(s(r, "initiator")),
                b(r, "handshakeCompleted"), b(r, "closeNotifySent"), b(r, "closeNotifyReceived"), s(r, "alert"),
                s(r, "alertDirection"), s(r, "appSaw"), s(r, "exception"), s(r, "api"), s(r, "implementation"),
                s(r, "role"), s(r, "peerHost"), (int) l(r, "peerPort"), (int) l(r, "localPort"), s(r, "protocol"),
                s(r, "cipherSuite"), l(r, "bytesIn"), l(r, "bytesOut"), l(r, "durationMillis"),
                r.has("idleMillis") ? l(r, "idleMillis") : -1, r.has("noticedAfterMillis") ? l(r, "noticedAfterMillis") : -1);
    }

    private static String s(JsonObject r, String name) {
        JsonElement e = r.get(name);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    private static long l(JsonObject r, String name) {
        JsonElement e = r.get(name);
        return e == null || e.isJsonNull() ? -1 : e.getAsLong();
    }

    private static boolean b(JsonObject r, String name) {
        JsonElement e = r.get(name);
        return e != null && !e.isJsonNull() && e.getAsBoolean();
    }

    /** One JSON summary. */
    void addSummary(JsonObject s) {
        connections += s.get("connections").getAsLong();
        open += s.get("open").getAsLong();
        long[] fileCounts = new long[N];
        add(outcomes, s.getAsJsonObject("outcomes"));
        add(handshakeOutcomes, s.getAsJsonObject("handshakeOutcomes"));
        add(fileCounts, s.getAsJsonObject("outcomes"));
        add(fileCounts, s.getAsJsonObject("handshakeOutcomes"));
        for (Map.Entry<String, JsonElement> api : s.getAsJsonObject("byApi").entrySet()) {
            add(byApi.computeIfAbsent(api.getKey(), k -> new long[N]), api.getValue().getAsJsonObject());
        }
        for (JsonElement e : s.getAsJsonArray("byPeer")) {
            JsonObject p = e.getAsJsonObject();
            Peer peer = byPeer.computeIfAbsent(p.get("peer").getAsString(), Peer::new);
            peer.connections += p.get("connections").getAsLong();
            add(peer.outcomes, p.getAsJsonObject("outcomes"));
        }
        for (JsonElement e : s.getAsJsonArray("recent")) {
            JsonObject r = e.getAsJsonObject();
            keepRecent(r);
            if (r.has("idleMillis")) {
                idle(r.get("idleMillis").getAsLong());
            }
        }
        if (s.has("diagnoses")) {
            for (JsonElement e : s.getAsJsonArray("diagnoses")) {
                summaryDiagnoses.add(diagnosis(e.getAsJsonObject()));
            }
        }
        allFinal &= s.get("final").getAsBoolean();
        Instant started = Instant.parse(s.get("startedAt").getAsString());
        if (startedAt == null || started.isBefore(startedAt)) {
            startedAt = started;
        }
        long[] point = Arrays.copyOf(fileCounts, N + 1);
        point[N] = Instant.parse(s.get("writtenAt").getAsString()).toEpochMilli();
        summaryPoints.add(point);
    }

    private static Diagnoses.Diagnosis diagnosis(JsonObject d) {
        Map<String, Object> figures = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> f : d.entrySet()) {
            String k = f.getKey();
            if (k.equals("kind") || k.equals("peer") || k.equals("connections") || k.equals("hint")) {
                continue;
            }
            JsonPrimitive v = f.getValue().getAsJsonPrimitive();
            figures.put(k, v.isNumber() ? (Object) v.getAsDouble() : v.getAsString());
        }
        String peer = d.get("peer").getAsString();
        String hint = d.get("hint").getAsString();
        return new Diagnoses.Diagnosis(d.get("kind").getAsString(), peer, d.get("connections").getAsLong(), figures,
                hint, hint.contains(" to " + peer + " "));
    }

    private static void add(long[] into, JsonObject counts) {
        for (Map.Entry<String, JsonElement> c : counts.entrySet()) {
            into[Outcome.valueOf(c.getKey()).ordinal()] += c.getValue().getAsLong();
        }
    }

    List<Peer> peers() {
        List<Peer> list = new ArrayList<>(byPeer.values());
        list.sort(Comparator.comparingLong(Peer::unclean).reversed()
                .thenComparing(Comparator.comparingLong((Peer p) -> p.connections).reversed())
                .thenComparing(p -> p.name));
        return list.subList(0, Math.min(MAX_PEERS, list.size()));
    }

    List<JsonObject> lastRecent() {
        return new ArrayList<>(recent);
    }

    /** The diagnoses of the recordings' records, with those the summaries brought, merged. */
    List<Diagnoses.Diagnosis> diagnoses() {
        List<Diagnoses.Diagnosis> all = new ArrayList<>(Diagnoses.of(evidence.values(), MAX_PEERS));
        all.addAll(summaryDiagnoses);
        return Diagnoses.merge(all, MAX_PEERS);
    }

    /** {epoch ms, outcome ordinal} of each recorded ending, in the order read. */
    long[][] timeline() {
        long[][] t = new long[timed][];
        for (int i = 0; i < timed; i++) {
            t[i] = new long[] {times[i], timeOutcomes[i]};
        }
        return t;
    }

    /** The merged summary in the schema of SPEC section 5. */
    JsonObject toJson(String agentVersion) {
        JsonObject j = new JsonObject();
        j.addProperty("schemaVersion", 1);
        j.addProperty("agentVersion", agentVersion);
        j.addProperty("pid", ProcessHandle.current().pid());
        j.addProperty("jvm", "merged from " + files + " file(s)");
        j.addProperty("startedAt", (startedAt == null ? Instant.now() : startedAt).toString());
        j.addProperty("writtenAt", Instant.now().toString());
        j.addProperty("final", allFinal);
        j.addProperty("connections", connections);
        j.addProperty("open", open);
        j.add("outcomes", counts(outcomes, true));
        j.add("handshakeOutcomes", counts(handshakeOutcomes, true));
        JsonObject apis = new JsonObject();
        byApi.forEach((k, v) -> apis.add(k, counts(v, false)));
        j.add("byApi", apis);
        JsonArray peers = new JsonArray();
        for (Peer p : peers()) {
            JsonObject o = new JsonObject();
            o.addProperty("peer", p.name);
            o.addProperty("connections", p.connections);
            o.add("outcomes", counts(p.outcomes, false));
            peers.add(o);
        }
        j.add("byPeer", peers);
        JsonArray rec = new JsonArray();
        lastRecent().forEach(rec::add);
        j.add("recent", rec);
        JsonArray diagnoses = new JsonArray();
        for (Diagnoses.Diagnosis d : diagnoses()) {
            JsonObject o = new JsonObject();
            o.addProperty("kind", d.kind());
            o.addProperty("peer", d.peer());
            o.addProperty("connections", d.connections());
            for (Map.Entry<String, Object> f : d.figures().entrySet()) {
                if (f.getValue() instanceof Number) {
                    o.addProperty(f.getKey(), (Number) f.getValue());
                } else {
                    o.addProperty(f.getKey(), String.valueOf(f.getValue()));
                }
            }
            o.addProperty("hint", d.hint());
            diagnoses.add(o);
        }
        j.add("diagnoses", diagnoses);
        return j;
    }

    static JsonObject counts(long[] c, boolean all) {
        JsonObject o = new JsonObject();
        for (Outcome out : Outcome.all()) {
            if (all || c[out.ordinal()] != 0) {
                o.addProperty(out.name(), c[out.ordinal()]);
            }
        }
        return o;
    }
}
