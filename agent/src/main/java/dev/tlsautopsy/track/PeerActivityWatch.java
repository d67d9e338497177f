package dev.tlsautopsy.track;

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * When did the peer end a connection nobody was reading? A blocking socket learns of a close_notify, a
 * FIN or a reset only when the application reads again: a pooled connection the server closed an hour
 * ago looks closed "now". On Linux the kernel knows: {@code /proc/net/tcp} and {@code tcp6} list each
 * socket's state (CLOSE_WAIT once the peer's FIN arrived) and its unread bytes. For the connections a
 * stack asks to watch (idle, no call under way, undecided), this thread notes the first moment the kernel
 * shows the peer acted; the ending found later is dated then. One file read per period for all
 * connections, and none while nothing is watched. Elsewhere it does nothing.
 *
 * <p>It keeps a list of its own: the connection table also holds every connection that ended and was not
 * yet collected, and under churn (hundreds of connections a second) walking it each period cost more
 * than the rest of the agent's work on those connections together.
 */
final class PeerActivityWatch implements Runnable {

    private static final long IDLE_BEFORE_WATCHING = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long PERIOD_MILLIS = 200;
    private static final int ESTABLISHED = 0x01, CLOSE_WAIT = 0x08;

    /** Connections that asked to be watched; this thread drops those decided since. */
    private final ConcurrentLinkedQueue<Evidence> watched = new ConcurrentLinkedQueue<>();
    private final boolean available = new java.io.File("/proc/net/tcp").canRead();
    private volatile Thread thread;

    PeerActivityWatch() {
    }

    /** A connection asks to be watched while it idles; starts the thread on first use. */
    void watch(Evidence ev) {
        if (!available || ev.watchedIdle) {
            return;
        }
        ev.watchedIdle = true;
        watched.add(ev);
        if (thread == null) {
            synchronized (this) {
                if (thread == null) {
                    Thread t = AgentThreads.daemon(this, "tls-autopsy-peer-activity");
                    t.start();
                    thread = t;
                }
            }
        }
    }

    @Override
    public void run() {
        long period = PERIOD_MILLIS;
        while (true) {
            try {
                Thread.sleep(period);
                if (!watched.isEmpty()) {
                    int sockets = look();
                    // a big socket table costs more to read: look less often
                    period = Math.max(PERIOD_MILLIS, sockets / 5);
                }
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                // keep watching; a failure here must not stop the thread
            }
        }
    }

    /** One look at the kernel's table for the connections idle now; returns how many sockets it listed. */
    private int look() throws IOException {
        long now = System.nanoTime();
        Map<Long, Evidence> idle = new HashMap<>();
        for (Iterator<Evidence> i = watched.iterator(); i.hasNext(); ) {
            Evidence ev = i.next();
            if (ev.verdict != null) {
                // decided: a verdict is never taken back
                i.remove();
            } else if (ev.started && ev.activeCalls == 0 && ev.peerSignalNanos == 0
                    && ev.localPort > 0 && ev.peerPort > 0 && ev.lastDataNanos != 0
                    && now - ev.lastDataNanos >= IDLE_BEFORE_WATCHING) {
                idle.put((long) ev.localPort << 16 | ev.peerPort, ev);
            }
        }
        if (idle.isEmpty()) {
            return 0;
        }
        List<long[]> signals = new ArrayList<>();
        int sockets = read("/proc/net/tcp", idle, signals) + read("/proc/net/tcp6", idle, signals);
        for (long[] s : signals) {
            Evidence ev = idle.get(s[0]);
            if (ev != null && ev.peerSignalNanos == 0 && ev.activeCalls == 0) {
                ev.lastDataBeforeSignal = ev.lastDataNanos;
                ev.peerBareFin = s[1] != 0;
                ev.peerSignalNanos = now;
            }
        }
        return sockets;
    }

    /**
     * Lines look like {@code 0: 0100007F:9C40 0100007F:1F90 08 00000000:00000025 ...}: local and remote
     * address:port in hex, the state, then transmit:receive queues.
     */
    private static int read(String file, Map<Long, Evidence> idle, List<long[]> signals) {
        int n = 0;
        try (BufferedReader in = new BufferedReader(new FileReader(file))) {
            String line = in.readLine();    // the header
            while ((line = in.readLine()) != null) {
                n++;
                String[] f = line.trim().split("\\s+");
                if (f.length < 5) {
                    continue;
                }
                int local = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
                int remote = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
                long key = (long) local << 16 | remote;
                if (!idle.containsKey(key)) {
                    continue;
                }
                int state = Integer.parseInt(f[3], 16);
                long received = Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16);
                if (state != ESTABLISHED || received > 0) {
                    // the peer's FIN with nothing unread before it: no close_notify can be waiting (the FIN
                    // itself takes one sequence number, counted here until a read consumes it)
                    signals.add(new long[] {key, state == CLOSE_WAIT && received <= 1 ? 1 : 0});
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            // no such table (no IPv6), or a line this reader does not understand
        }
        return n;
    }
}
