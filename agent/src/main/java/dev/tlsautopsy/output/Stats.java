package dev.tlsautopsy.output;

import dev.tlsautopsy.classify.Diagnoses;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Outcome;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Running counts of every ending, bounded in memory whatever the connection count. */
public final class Stats {

    public static final String[] APIS = {"SSLSocket", "SSLEngine", "Netty"};
    private static final int N = Outcome.all().length;

    /** One peer's counts, and what its records show for the diagnoses. */
    public static final class PeerCounts {
        final String peer;
        long connections;
        long unclean;
        final long[] outcomes = new long[N];
        long lastSeen;
        Diagnoses.PeerEvidence evidence;

        PeerCounts(String peer) {
            this.peer = peer;
        }
    }

    /** A consistent copy, taken under the lock, for writers. */
    public static final class Snapshot {
        public long connections;
        public long[] outcomes = new long[N];
        public long[] handshakeOutcomes = new long[N];
        public Map<String, long[]> byApi = new LinkedHashMap<>();
        public List<PeerCounts> byPeer = new ArrayList<>();
        public List<Ending> recent = new ArrayList<>();
        public List<Diagnoses.Diagnosis> diagnoses = new ArrayList<>();
    }

    private final int maxPeers;
    private final int recentLimit;
    private long connections;
    private long tick;
    private final long[] outcomes = new long[N];
    private final long[] handshakeOutcomes = new long[N];
    private final Map<String, long[]> byApi = new LinkedHashMap<>();
    /** Connections started and ended per api, for each api's open count. */
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicLong> startedByApi =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, PeerCounts> byPeer = new HashMap<>();
    /**
     * The peers of the client and of the server connection added last (a JVM that is both, as a proxy is,
     * ends them in turn), and what their keys were made of: a client's peer host and port, a server's host.
     */
    private final PeerCounts[] lastPeer = new PeerCounts[2];
    private final String[] lastHost = new String[2];
    private final int[] lastPort = new int[2];
    private final ArrayDeque<Ending> recent = new ArrayDeque<>();

    public Stats(int maxPeers, int recentLimit) {
        this.maxPeers = maxPeers;
        this.recentLimit = recentLimit;
        for (String api : APIS) {
            byApi.put(api, new long[N]);
        }
    }

    public synchronized void add(Ending e) {
        int o = e.outcome().ordinal();
        connections++;
        tick++;
        (e.handshakeCompleted() ? outcomes : handshakeOutcomes)[o]++;
        // no lambdas on a connection's path: the first one's bootstrap would cost the application's first
        // connection milliseconds
        String api = e.api().isEmpty() ? "SSLEngine" : e.api();
        long[] counts = byApi.get(api);
        if (counts == null) {
            counts = new long[N];
            byApi.put(api, counts);
        }
        counts[o]++;
        if (maxPeers > 0) {
            // connections in a row mostly have the same peer: then its key is neither built nor hashed
            int side = "CLIENT".equals(e.role()) ? 0 : 1;
            PeerCounts p = lastPeer[side];
            if (p == null || !e.peerHost().equals(lastHost[side]) || (side == 0 && e.peerPort() != lastPort[side])) {
                String key = e.peerKey();
                p = byPeer.get(key);
                if (p == null) {
                    // keep at most 4 x maxPeers candidates so that the report's top maxPeers stay right
                    if (byPeer.size() >= maxPeers * 4) {
                        evictOnePeer();
                    }
                    p = new PeerCounts(key);
                    p.evidence = new Diagnoses.PeerEvidence(p.peer, "CLIENT".equals(e.role()));
                    byPeer.put(p.peer, p);
                }
                lastPeer[side] = p;
                lastHost[side] = e.peerHost();
                lastPort[side] = e.peerPort();
            }
            p.evidence.add(e);
            p.connections++;
            p.outcomes[o]++;
            if (!e.outcome().clean()) {
                p.unclean++;
            }
            p.lastSeen = tick;
        }
        if (!e.outcome().clean() && recentLimit > 0) {
            if (recent.size() >= recentLimit) {
                recent.removeFirst();
            }
            recent.addLast(e);
        }
    }

    private void evictOnePeer() {
        PeerCounts victim = null;
        for (PeerCounts p : byPeer.values()) {
            if (victim == null || p.unclean < victim.unclean
                    || (p.unclean == victim.unclean && p.lastSeen < victim.lastSeen)) {
                victim = p;
            }
        }
        if (victim != null) {
            byPeer.remove(victim.peer);
        }
    }

    public synchronized long connections() {
        return connections;
    }

    /** A connection of this api started (its ending comes through {@link #add}). */
    public void started(String api) {
        String key = api.isEmpty() ? "SSLEngine" : api;
        java.util.concurrent.atomic.AtomicLong n = startedByApi.get(key);
        if (n == null) {
            java.util.concurrent.atomic.AtomicLong fresh = new java.util.concurrent.atomic.AtomicLong();
            n = startedByApi.putIfAbsent(key, fresh);
            if (n == null) {
                n = fresh;
            }
        }
        n.incrementAndGet();
    }

    /** Connections of this api finished. */
    public synchronized long connections(String api) {
        long[] c = byApi.get(api);
        long n = 0;
        if (c != null) {
            for (long x : c) {
                n += x;
            }
        }
        return n;
    }

    /** A started connection's api changed: its start counts for the new one. */
    public void moved(String from, String to) {
        java.util.concurrent.atomic.AtomicLong f = startedByApi.get(from.isEmpty() ? "SSLEngine" : from);
        if (f != null) {
            f.decrementAndGet();
        }
        started(to);
    }

    /** Connections of this api started and not finished. */
    public long open(String api) {
        java.util.concurrent.atomic.AtomicLong s = startedByApi.get(api);
        return (s == null ? 0 : s.get()) - connections(api);
    }

    /** Count of an outcome for one api, whether or not the handshake completed. */
    public synchronized long count(String api, Outcome o) {
        long[] c = byApi.get(api);
        return c == null ? 0 : c[o.ordinal()];
    }

    /** Count of an outcome over all connections, whether or not their handshake completed. */
    public synchronized long count(Outcome o) {
        return outcomes[o.ordinal()] + handshakeOutcomes[o.ordinal()];
    }

    public synchronized Snapshot snapshot() {
        Snapshot s = new Snapshot();
        s.connections = connections;
        s.outcomes = outcomes.clone();
        s.handshakeOutcomes = handshakeOutcomes.clone();
        byApi.forEach((k, v) -> s.byApi.put(k, v.clone()));
        List<PeerCounts> peers = new ArrayList<>(byPeer.values());
        peers.sort(Comparator.<PeerCounts>comparingLong(p -> -p.unclean)
                .thenComparingLong(p -> -p.connections).thenComparing(p -> p.peer));
        for (PeerCounts p : peers.subList(0, Math.min(maxPeers, peers.size()))) {
            PeerCounts c = new PeerCounts(p.peer);
            c.connections = p.connections;
            c.unclean = p.unclean;
            System.arraycopy(p.outcomes, 0, c.outcomes, 0, N);
            s.byPeer.add(c);
        }
        s.recent.addAll(recent);
        s.diagnoses = diagnoses();
        return s;
    }

    /** The diagnoses the records so far support, most frequent first. */
    public synchronized List<Diagnoses.Diagnosis> diagnoses() {
        List<Diagnoses.PeerEvidence> evidence = new ArrayList<>();
        for (PeerCounts p : byPeer.values()) {
            evidence.add(p.evidence);
        }
        return Diagnoses.of(evidence, maxPeers);
    }
}
