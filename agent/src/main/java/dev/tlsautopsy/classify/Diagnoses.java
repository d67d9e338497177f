package dev.tlsautopsy.classify;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns ending records into the answers operators look for (SPEC section 5): an idle timeout between
 * here and a peer, pooled connections reused after the peer had closed them, handshakes failing with a
 * peer. Pure: records in, diagnoses out. A diagnosis is never invented: each names only what the records
 * show, with the records' own figures.
 */
public final class Diagnoses {

    public static final String IDLE_TIMEOUT = "IDLE_TIMEOUT", STALE_REUSE = "STALE_REUSE",
            HANDSHAKE_FAILURES = "HANDSHAKE_FAILURES";

    /** Endings that agree on an idle time within this factor form one idle timeout. */
    static final double AGREEMENT = 1.10;
    /** The fewest endings an idle timeout is named from. */
    static final int MIN_IDLE_ENDINGS = 3;
    /** Idle times below this are not an idle timeout (a reset right after the data is something else). */
    static final long MIN_IDLE_MILLIS = 1000;
    /** Values kept per peer and kind: enough to find an idle timeout, bounded whatever the connection count. */
    static final int KEPT = 64;

    /**
     * One diagnosis. {@code figures}: the kind's own numbers, named as in the summary; {@code client}: the
     * peer is a server this side connected to (not written out: the peer's key says it).
     */
    public record Diagnosis(String kind, String peer, long connections, Map<String, Object> figures, String hint,
                            boolean client) {

        /** The same cause seen {@code n} times. */
        Diagnosis times(long n) {
            switch (kind) {
                case IDLE_TIMEOUT:
                    return idle(peer, client, n, number("idleSeconds"), number("spreadSeconds"));
                case STALE_REUSE:
                    return staleReuse(peer, client, n, number("staleSeconds") * 1000);
                default:
                    return handshakeFailures(peer, client, n, String.valueOf(figures.get("alert")),
                            String.valueOf(figures.get("alertDirection")));
            }
        }

        private double number(String name) {
            Object v = figures.get(name);
            return v instanceof Number ? ((Number) v).doubleValue() : 0;
        }
    }

    private Diagnoses() {
    }

    /** Whether an ending is one of those an idle timeout causes: the peer's side (or nobody seen) ended it uncleanly. */
    static boolean idleEnding(Ending e) {
        switch (e.outcome()) {
            case TRUNCATED: case RESET: case SHORT_READ: case LOCAL_ABORT: case TIMEOUT:
                return e.initiator() != Initiator.LOCAL && e.handshakeCompleted() && e.idleMillis() >= MIN_IDLE_MILLIS;
            default:
                return false;
        }
    }

    /**
     * Whether the peer ended a connection the application noticed only later, when it used it again: a read
     * or write then returned -1 or threw (a pool that merely closes it, having seen nothing, reused nothing).
     */
    static boolean staleEnding(Ending e) {
        if (e.initiator() != Initiator.PEER || e.noticedAfterMillis() <= 0 || !e.handshakeCompleted()
                || Ending.SAW_NOTHING.equals(e.appSaw())) {
            return false;
        }
        switch (e.outcome()) {
            case CLEAN: return e.closeNotifyReceived();
            case TRUNCATED: case SHORT_READ: case RESET: return true;
            default: return false;
        }
    }

    /** Whether a fatal alert (either way) ended the connection during its handshake. */
    static boolean handshakeFailure(Ending e) {
        return !e.handshakeCompleted() && !e.alertDirection().isEmpty()
                && (e.outcome() == Outcome.FATAL_ALERT || e.outcome() == Outcome.BAD_RECORD_MAC);
    }

    /** What one peer's records show, in bounded memory. */
    public static final class PeerEvidence {
        final String peer;
        final boolean client;
        final long[] idle = new long[KEPT];
        int idleCount;
        final long[] stale = new long[KEPT];
        int staleCount;
        long staleTotal;
        final Map<String, long[]> alerts = new LinkedHashMap<>();

        public PeerEvidence(String peer, boolean client) {
            this.peer = peer;
            this.client = client;
        }

        public void add(Ending e) {
            if (idleEnding(e)) {
                idle[idleCount++ % KEPT] = e.idleMillis();
            }
            if (staleEnding(e)) {
                stale[staleCount++ % KEPT] = e.noticedAfterMillis();
                staleTotal++;
            }
            if (handshakeFailure(e) && alerts.size() < 16) {
                alerts.computeIfAbsent(e.alert() + "|" + e.alertDirection(), k -> new long[1])[0]++;
            }
        }

        private long[] kept(long[] ring, int count) {
            return Arrays.copyOf(ring, Math.min(count, KEPT));
        }
    }

    /** The diagnoses of these peers, most frequent first, at most {@code max}. */
    public static List<Diagnosis> of(Collection<PeerEvidence> peers, int max) {
        List<Diagnosis> out = new ArrayList<>();
        for (PeerEvidence p : peers) {
            Diagnosis idle = idleTimeout(p.peer, p.client, p.kept(p.idle, p.idleCount));
            if (idle != null) {
                out.add(idle);
            }
            if (p.staleTotal > 0) {
                out.add(staleReuse(p.peer, p.client, p.staleTotal, median(p.kept(p.stale, p.staleCount))));
            }
            for (Map.Entry<String, long[]> a : p.alerts.entrySet()) {
                String[] k = a.getKey().split("\\|", -1);
                out.add(handshakeFailures(p.peer, p.client, a.getValue()[0], k[0], k[1]));
            }
        }
        return sorted(out, max);
    }

    static List<Diagnosis> sorted(List<Diagnosis> out, int max) {
        out.sort(Comparator.comparingLong(Diagnosis::connections).reversed().thenComparing(Diagnosis::kind)
                .thenComparing(Diagnosis::peer));
        return new ArrayList<>(out.subList(0, Math.min(max, out.size())));
    }

    /** The largest group of idle times that agree within 10 %, if it has at least three. */
    static Diagnosis idleTimeout(String peer, boolean client, long[] idleMillis) {
        long[] v = idleMillis.clone();
        Arrays.sort(v);
        int bestFrom = 0;
        int bestSize = 0;
        for (int i = 0, j = 0; i < v.length; i++) {
            while (j < v.length && v[j] <= v[i] * AGREEMENT) {
                j++;
            }
            if (j - i > bestSize) {
                bestSize = j - i;
                bestFrom = i;
            }
        }
        if (bestSize < MIN_IDLE_ENDINGS) {
            return null;
        }
        long[] group = Arrays.copyOfRange(v, bestFrom, bestFrom + bestSize);
        return idle(peer, client, bestSize, median(group) / 1000.0, (group[group.length - 1] - group[0]) / 2000.0);
    }

    static Diagnosis idle(String peer, boolean client, long connections, double seconds, double spread) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("idleSeconds", round(seconds));
        figures.put("spreadSeconds", round(spread));
        String hint = connections + " connection" + (connections == 1 ? "" : "s") + (client ? " to " : " from ") + peer
                + " were ended by the peer side after " + seconds(seconds) + " (+-" + seconds(Math.max(spread, 0.05))
                + ") without traffic: an idle timeout between here and there (load balancer, NAT, firewall or the "
                + "server's own); keep pooled connections idle for less than that";
        return new Diagnosis(IDLE_TIMEOUT, peer, connections, figures, hint, client);
    }

    static Diagnosis staleReuse(String peer, boolean client, long connections, double staleMillis) {
        double seconds = staleMillis / 1000.0;
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("staleSeconds", round(seconds));
        String hint = connections + " connection" + (connections == 1 ? "" : "s") + (client ? " to " : " from ") + peer
                + " had been ended by the peer (close_notify, EOF or reset) " + seconds(seconds)
                + " before the application used " + (connections == 1 ? "it" : "them") + " again and failed: a pooled"
                + " connection reused after the peer had closed it; evict idle connections before the peer does"
                + " (or validate them before reuse)";
        return new Diagnosis(STALE_REUSE, peer, connections, figures, hint, client);
    }

    static Diagnosis handshakeFailures(String peer, boolean client, long connections, String alert, String direction) {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("alert", alert);
        figures.put("alertDirection", direction);
        boolean sent = "SENT".equals(direction);
        String what = alert.isEmpty() ? "a fatal alert" : alert;
        String hint = connections + " handshake" + (connections == 1 ? "" : "s") + " with " + peer + " failed with "
                + what + (sent ? " sent here" : " from the peer") + ": "
                + (sent ? "this side rejected the peer (its certificate, protocol or cipher suites); check the trust store and the enabled protocols"
                        : "the peer rejected this side (its certificate, protocol or cipher suites); check what the peer accepts");
        return new Diagnosis(HANDSHAKE_FAILURES, peer, connections, figures, hint, client);
    }

    /**
     * Diagnoses from several JVMs' summaries, merged: the same kind and peer (and, for an idle timeout, an
     * idle time within 10 %; for handshake failures, the same alert) add up.
     */
    public static List<Diagnosis> merge(List<Diagnosis> all, int max) {
        List<Diagnosis> out = new ArrayList<>();
        for (Diagnosis d : all) {
            int same = -1;
            for (int i = 0; i < out.size() && same < 0; i++) {
                if (sameCause(out.get(i), d)) {
                    same = i;
                }
            }
            if (same < 0) {
                out.add(d);
                continue;
            }
            Diagnosis a = out.get(same);
            Diagnosis big = a.connections() >= d.connections() ? a : d;
            out.set(same, big.times(a.connections() + d.connections()));
        }
        return sorted(out, max);
    }

    private static boolean sameCause(Diagnosis a, Diagnosis b) {
        if (!a.kind().equals(b.kind()) || !a.peer().equals(b.peer())) {
            return false;
        }
        switch (a.kind()) {
            case IDLE_TIMEOUT: {
                double x = ((Number) a.figures().get("idleSeconds")).doubleValue();
                double y = ((Number) b.figures().get("idleSeconds")).doubleValue();
                return Math.max(x, y) <= Math.min(x, y) * AGREEMENT;
            }
            case HANDSHAKE_FAILURES:
                return a.figures().equals(b.figures());
            default:
                return true;
        }
    }

    static double median(long[] v) {
        if (v.length == 0) {
            return 0;
        }
        long[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static String seconds(double s) {
        if (s < 1) {
            return String.format(Locale.ROOT, "%.0f ms", s * 1000);
        }
        return s >= 10 ? String.format(Locale.ROOT, "%.0f s", s) : String.format(Locale.ROOT, "%.1f s", s);
    }
}
