package dev.tlsautopsy.track;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.function.Consumer;

/**
 * Evidence keyed by the identity of a TLS object (an SSLSocket, an SSLEngine), held by phantom
 * references: the table never keeps a connection alive, lookups never allocate, and a connection
 * stays findable until it is really unreachable (so the JDK 17 Finalizer's {@code close()} still
 * finds it). Entries whose object was collected are handed to the reaper.
 */
final class ConnectionTable {

    static final class Node extends PhantomReference<Object> {
        final int hash;
        final Evidence evidence;
        /** Volatile: lookups walk the chains without the stripe's lock. */
        volatile Node next;

        Node(Object key, int hash, Evidence evidence, ReferenceQueue<Object> queue) {
            super(key, queue);
            this.hash = hash;
            this.evidence = evidence;
        }
    }

    /** A stripe's lock and size; its buckets are in {@link #buckets}, one step less for a lookup. */
    private static final class Stripe {
        int size;
    }

    private static final int STRIPES = 64;
    private final Stripe[] stripes = new Stripe[STRIPES];
    /**
     * Each stripe's buckets, replaced under its lock when it grows. Read without it: a reader that sees an
     * older array (or one not filled yet) only misses, and a miss is confirmed under the lock.
     */
    private final Node[][] buckets = new Node[STRIPES][];
    private final ReferenceQueue<Object> queue = new ReferenceQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger entries = new java.util.concurrent.atomic.AtomicInteger();
    /** Connection ids, unique within the JVM, given as evidence is created. */
    private final java.util.concurrent.atomic.AtomicLong ids = new java.util.concurrent.atomic.AtomicLong();
    private final int limit;

    ConnectionTable() {
        this(Integer.MAX_VALUE);
    }

    /** At most {@code limit} entries: a new connection beyond it is not tracked ({@link #getOrCreate} says null). */
    ConnectionTable(int limit) {
        this.limit = limit;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Stripe();
            buckets[i] = new Node[16];
        }
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /**
     * The evidence {@code key} leads to. A hit needs no lock (the identity check makes it certain); a miss
     * is confirmed under the stripe's lock, since a concurrent resize or removal may have hidden the key.
     */
    Evidence get(Object key) {
        int h = spread(System.identityHashCode(key));
        Evidence found = found(key, h);
        if (found != null) {
            return found;
        }
        Stripe s = stripes[h & (STRIPES - 1)];
        synchronized (s) {
            Node[] b = buckets[h & (STRIPES - 1)];
            for (Node n = b[(h >>> 6) & (b.length - 1)]; n != null; n = n.next) {
                if (n.hash == h && n.refersTo(key)) {
                    return n.evidence;
                }
            }
            return null;
        }
    }

    /** The evidence of {@code key}, created new (with the next id) if there is none; null at the limit. */
    Evidence getOrCreate(Object key, Owner owner, String api) {
        return getOrCreate(key, null, owner, api, true);
    }

    int size() {
        return entries.get();
    }

    /**
     * The evidence {@code key} leads to, if a walk without the lock finds it: null may also mean that a
     * concurrent resize or removal hid it.
     */
    private Evidence found(Object key, int h) {
        Node[] lockFree = buckets[h & (STRIPES - 1)];
        for (Node n = lockFree[(h >>> 6) & (lockFree.length - 1)]; n != null; n = n.next) {
            if (n.hash == h && n.refersTo(key)) {
                return n.evidence;
            }
        }
        return null;
    }

    private Evidence getOrCreate(Object key, Evidence alias, Owner owner, String api, boolean bounded) {
        int h = spread(System.identityHashCode(key));
        Evidence found = found(key, h);
        if (found != null) {
            return found;
        }
        Stripe s = stripes[h & (STRIPES - 1)];
        synchronized (s) {
            Node[] b = buckets[h & (STRIPES - 1)];
            int i = (h >>> 6) & (b.length - 1);
            for (Node n = b[i]; n != null; n = n.next) {
                if (n.hash == h && n.refersTo(key)) {
                    return n.evidence;
                }
            }
            if (bounded && entries.get() >= limit) {
                return null;
            }
            Evidence e = alias != null ? alias
                    : new Evidence(ids.incrementAndGet(), owner, api, key.getClass().getName());
            entries.incrementAndGet();
            Node node = new Node(key, h, e, queue);
            node.next = b[i];
            b[i] = node;
            if (++s.size > b.length * 2) {
                buckets[h & (STRIPES - 1)] = resized(b);
            }
            return e;
        }
    }

    /** Makes {@code key} find {@code evidence} too (one connection seen through several objects). */
    void alias(Object key, Evidence evidence) {
        // another name of a tracked connection: never refused
        getOrCreate(key, evidence, null, null, false);
    }

    /**
     * Doubles a stripe's buckets. A reader still walking the old array may be led astray by a moved node
     * (never round in circles: a node's new successor was moved before it) and then looks again locked.
     */
    private static Node[] resized(Node[] old) {
        Node[] b = new Node[old.length * 2];
        for (Node head : old) {
            for (Node n = head; n != null; ) {
                Node next = n.next;
                int i = (n.hash >>> 6) & (b.length - 1);
                n.next = b[i];
                b[i] = n;
                n = next;
            }
        }
        return b;
    }

    /** Takes {@code key}'s entry out if it leads to {@code evidence}. */
    void remove(Object key, Evidence evidence) {
        unlink(spread(System.identityHashCode(key)), null, key, evidence);
    }

    /** Blocks until a connection object has been collected; returns its evidence after unlinking it. */
    Evidence awaitCollected() throws InterruptedException {
        Node node = (Node) queue.remove();
        unlink(node);
        return node.evidence;
    }

    private void unlink(Node node) {
        unlink(node.hash, node, null, null);
    }

    /** Unlinks {@code node}, or (null) the node of {@code key} that leads to {@code evidence}. */
    private void unlink(int h, Node node, Object key, Evidence evidence) {
        Stripe s = stripes[h & (STRIPES - 1)];
        synchronized (s) {
            Node[] b = buckets[h & (STRIPES - 1)];
            int i = (h >>> 6) & (b.length - 1);
            Node prev = null;
            for (Node n = b[i]; n != null; prev = n, n = n.next) {
                if (node != null ? n == node : n.hash == h && n.evidence == evidence && n.refersTo(key)) {
                    if (prev == null) {
                        b[i] = n.next;
                    } else {
                        prev.next = n.next;
                    }
                    s.size--;
                    entries.decrementAndGet();
                    return;
                }
            }
        }
    }

    void forEach(Consumer<Evidence> action) {
        for (int i = 0; i < STRIPES; i++) {
            Stripe s = stripes[i];
            Evidence[] snapshot;
            synchronized (s) {
                snapshot = new Evidence[s.size];
                int k = 0;
                for (Node head : buckets[i]) {
                    for (Node n = head; n != null && k < snapshot.length; n = n.next) {
                        snapshot[k++] = n.evidence;
                    }
                }
            }
            for (Evidence e : snapshot) {
                if (e != null) {
                    action.accept(e);
                }
            }
        }
    }
}
