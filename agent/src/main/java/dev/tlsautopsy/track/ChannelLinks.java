package dev.tlsautopsy.track;

import java.nio.ByteBuffer;

/**
 * Which {@code SocketChannel} carries which engine's records. An application that drives an
 * {@code SSLEngine} itself (Jetty, Tomcat, Apache HttpClient's async client, the JDK's HTTP client) writes
 * what the engine wrapped to its channel, often on another thread, sometimes copied into another buffer
 * first. The first wraps of each engine (its handshake flights) are offered here by their first
 * {@value #PREFIX} bytes (a record header and then random or encrypted bytes: unique); a channel write
 * that starts with the same bytes links the channel to that engine. Bounded and short-lived: a few
 * entries per engine in a small hash table, each kept for two seconds, the oldest overwritten when full.
 * A channel write looks here only while entries wait.
 */
final class ChannelLinks {

    /** Wraps offered per engine: the handshake's flights. */
    static final int OFFERS_PER_ENGINE = 4;
    /** Bytes compared: a record's header and 27 bytes of random or encrypted content. */
    static final int PREFIX = 32;
    private static final int CAPACITY = 512;
    private static final long TTL_NANOS = 2_000_000_000L;

    private final long[] keys = new long[CAPACITY];
    private final Evidence[] owners = new Evidence[CAPACITY];
    private final long[] offered = new long[CAPACITY];
    /** Entries in the table: a write looks only when there are any. */
    private volatile int waiting;
    /** When stale entries were last cleared from the whole table. */
    private volatile long swept = System.nanoTime();

    /** An engine of {@code ev} wrapped {@code produced} bytes into {@code dst}, ending at its position. */
    void offer(ByteBuffer dst, int produced, Evidence ev) {
        if (ev.linked || ev.linkOffers >= OFFERS_PER_ENGINE || produced < PREFIX) {
            return;
        }
        ev.linkOffers++;
        long key = prefix(dst, dst.position() - produced);
        long now = System.nanoTime();
        synchronized (this) {
            int slot = -1;
            int oldest = -1;
            for (int probe = 0, i = index(key); probe < 8; probe++, i = (i + 1) & (CAPACITY - 1)) {
                if (owners[i] == null || now - offered[i] > TTL_NANOS || owners[i].linked) {
                    slot = i;
                    break;
                }
                if (oldest < 0 || offered[i] < offered[oldest]) {
                    oldest = i;
                }
            }
            if (slot < 0) {
                slot = oldest;
            }
            if (owners[slot] == null) {
                waiting++;
            }
            keys[slot] = key;
            owners[slot] = ev;
            offered[slot] = now;
        }
    }

    /**
     * The connection whose wrapped output a channel write of {@code src} (a buffer or an array of them)
     * starts with, if one was offered and is not linked yet. Without a waiting offer it looks at nothing:
     * Netty's gathering write passes its thread's whole buffer array (1,024 slots), and walking it on every
     * write was 4-7 % of the agent's samples in Netty churn.
     */
    Evidence owner(Object src) {
        if (waiting == 0) {
            return null;
        }
        if (System.nanoTime() - swept > TTL_NANOS) {
            sweep();
        }
        if (src instanceof Object[]) {
            for (Object o : (Object[]) src) {
                Evidence ev = ownerOf(o);
                if (ev != null) {
                    return ev;
                }
            }
            return null;
        }
        return ownerOf(src);
    }

    private Evidence ownerOf(Object src) {
        if (waiting == 0 || !(src instanceof ByteBuffer)) {
            return null;
        }
        ByteBuffer b = (ByteBuffer) src;
        if (b.remaining() < PREFIX) {
            return null;
        }
        return take(prefix(b, b.position()));
    }

    /** Clears entries whose engine was linked or that waited too long (an engine without a channel). */
    private synchronized void sweep() {
        long now = System.nanoTime();
        swept = now;
        for (int i = 0; i < CAPACITY; i++) {
            if (owners[i] != null && (now - offered[i] > TTL_NANOS || owners[i].linked)) {
                clear(i);
            }
        }
    }

    private synchronized Evidence take(long key) {
        long now = System.nanoTime();
        for (int probe = 0, i = index(key); probe < 8; probe++, i = (i + 1) & (CAPACITY - 1)) {
            Evidence ev = owners[i];
            if (ev == null) {
                continue;
            }
            boolean stale = now - offered[i] > TTL_NANOS || ev.linked;
            if (!stale && keys[i] == key) {
                clear(i);
                return ev;
            }
            if (stale) {
                clear(i);
            }
        }
        return null;
    }

    private void clear(int i) {
        owners[i] = null;
        waiting--;
    }

    private static int index(long key) {
        return (int) (key ^ (key >>> 29)) & (CAPACITY - 1);
    }

    /** A hash of the {@value #PREFIX} bytes at {@code at}, read without moving the buffer. */
    static long prefix(ByteBuffer b, int at) {
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < PREFIX; i += 8) {
            long v = 0;
            for (int j = 0; j < 8; j++) {
                v = v << 8 | (b.get(at + i + j) & 0xFF);
            }
            h = (h ^ v) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return h;
    }
}
