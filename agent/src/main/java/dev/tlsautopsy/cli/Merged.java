package dev.tlsautopsy.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.tlsautopsy.classify.Outcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Endings and summaries from many JVMs, added up in the summary's terms (SPEC section 5). */
final class Merged {

    static final String[] APIS = {"SSLSocket", "SSLEngine", "Netty"};
    static final int N = Outcome.all().length;
    static final int MAX_PEERS = 100;
    static final int MAX_RECENT = 100;

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
    final List<JsonObject> recent = new ArrayList<>();
    int files;
    boolean allFinal = true;
    Instant startedAt;

    Merged() {
        for (String api : APIS) {
            byApi.put(api, new long[N]);
        }
    }

    /** One ending record (from a JFR event), with the record's fields. */
    void addRecord(JsonObject r) {
        int o = Outcome.valueOf(r.get("outcome").getAsString()).ordinal();
        connections++;
        (r.get("handshakeCompleted").getAsBoolean() ? outcomes : handshakeOutcomes)[o]++;
        byApi.computeIfAbsent(r.get("api").getAsString(), k -> new long[N])[o]++;
        String host = r.get("peerHost").getAsString();
        int port = r.get("peerPort").getAsInt();
        String key = (host.isEmpty() ? "unknown" : host)
                + ("CLIENT".equals(r.get("role").getAsString()) && port >= 0 ? ":" + port : "");
        Peer p = byPeer.computeIfAbsent(key, Peer::new);
        p.connections++;
        p.outcomes[o]++;
        if (o != Outcome.CLEAN.ordinal()) {
            recent.add(r);
        }
    }

    /** One JSON summary. */
    void addSummary(JsonObject s) {
        connections += s.get("connections").getAsLong();
        open += s.get("open").getAsLong();
        add(outcomes, s.getAsJsonObject("outcomes"));
        add(handshakeOutcomes, s.getAsJsonObject("handshakeOutcomes"));
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
            recent.add(e.getAsJsonObject());
        }
        allFinal &= s.get("final").getAsBoolean();
        Instant started = Instant.parse(s.get("startedAt").getAsString());
        if (startedAt == null || started.isBefore(startedAt)) {
            startedAt = started;
        }
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
        return recent.subList(Math.max(0, recent.size() - MAX_RECENT), recent.size());
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
