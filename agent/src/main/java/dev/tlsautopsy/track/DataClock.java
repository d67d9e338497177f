package dev.tlsautopsy.track;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The clock behind "when did application data last move", which every read, write, wrap and unwrap
 * stamps. {@code System.nanoTime()} costs 27 ns on a KVM guest's clock, about half of what the agent
 * added to a JDK SSLEngine's wrap and unwrap; this clock is a field read. A daemon thread sets it from
 * {@code System.nanoTime()} every {@value #TICK_MILLIS} ms while any connection is open and waits while none
 * is, so a stamp is at most a tick (or the thread's scheduling delay) early: an idle time reads up to that much
 * longer. Idle times that matter (an idle timeout, a pooled connection gone stale) are seconds.
 */
final class DataClock implements Runnable {

    static final long TICK_MILLIS = 10;

    private final LongSupplier open;
    private volatile long now = System.nanoTime();
    /** Whether the thread ticks (false: it waits for a connection to start). */
    private volatile boolean ticking;
    private Thread thread;

    /** {@code open}: how many connections are open now. */
    DataClock(LongSupplier open) {
        this.open = open;
    }

    /** Now, to within a tick while a connection is open. */
    long now() {
        return now;
    }

    /**
     * A connection started (after it was counted open): the clock is exact now and ticks from here on. A
     * stopped clock is set here before any data of this connection can read it.
     */
    void connectionStarted() {
        if (ticking) {
            return;
        }
        synchronized (this) {
            now = System.nanoTime();
            ticking = true;
            if (thread == null) {
                thread = new Thread(this, "tls-autopsy-clock");
                thread.setDaemon(true);
                thread.start();
            } else {
                notifyAll();
            }
        }
    }

    @Override
    public void run() {
        long tick = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
        try {
            while (true) {
                TimeUnit.NANOSECONDS.sleep(tick);
                now = System.nanoTime();
                if (open.getAsLong() <= 0) {
                    synchronized (this) {
                        // a start after this write sees the clock stopped and wakes it; a start before it was
                        // counted open before this read
                        ticking = false;
                        while (open.getAsLong() <= 0 && !ticking) {
                            wait();
                        }
                        ticking = true;
                    }
                    now = System.nanoTime();
                }
            }
        } catch (InterruptedException e) {
            // the JVM is ending
        }
    }

    /** Whether the thread ticks now (for tests). */
    boolean ticking() {
        return ticking;
    }
}
