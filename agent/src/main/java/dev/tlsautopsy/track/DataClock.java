package dev.tlsautopsy.track;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The clock behind "when did application data last move", which every read, write, wrap and unwrap
 * stamps. {@code System.nanoTime()} costs 27 ns on a KVM guest's clock, about half of what the agent
 * added to a JDK SSLEngine's wrap and unwrap; this clock is a field read. A daemon thread sets it from
 * {@code System.nanoTime()} every {@value #TICK_MILLIS} ms, but only while stamps come often enough to pay
 * for its waking (about 50 us of CPU a wake-up on this guest, as much as some 2,000 reads of the system
 * clock): {@value #START_AT} stamps within a tick start it. Slower stamps (connection churn, a few per
 * connection) read the system clock themselves and wake nothing. Every {@value #PROBE_EVERY}th tick the
 * thread stops and stamps read the system clock again, counting; they restart it within that tick if they
 * still come that often. A stamp is never late and at most a tick (or the thread's scheduling delay)
 * early: an idle time reads up to that much long. Idle times that matter (an idle timeout, a stale pooled
 * connection) are seconds.
 */
final class DataClock implements Runnable {

    static final long TICK_MILLIS = 20;
    /** Stamps within one tick that make the thread worth waking. */
    static final int START_AT = 1000;
    /** The thread stops every this many ticks, to see whether stamps still come that often. */
    static final int PROBE_EVERY = 10;

    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);

    private volatile long now = System.nanoTime();
    /** Whether the thread has stopped (or never started): stamps read the system clock, and count. */
    private volatile boolean stopped = true;
    /**
     * Stamps since {@link #windowStart}, while stopped. Plain fields written by any application thread: a
     * lost count only delays the start a little, and no stamp writes them once the thread ticks.
     */
    private int stamps;
    private long windowStart;
    /**
     * Made with the clock, when the agent starts (so also in the agent's thread group), and started by the
     * first burst of stamps; what else it does not inherit: {@link AgentThreads}.
     */
    private final Thread thread = AgentThreads.daemon(this, "tls-autopsy-clock");
    private boolean threadStarted;
    /** The thread could not start (no memory for its stack): every stamp reads the system clock. */
    private volatile boolean unavailable;

    /** Now, to within a tick. */
    long now() {
        return stopped ? counted() : now;
    }

    private long counted() {
        long t = System.nanoTime();
        if (unavailable) {
            return t;
        }
        if (t - windowStart > TICK_NANOS) {
            windowStart = t;
            stamps = 1;
        } else if (++stamps >= START_AT) {
            start(t);
        }
        return t;
    }

    private void start(long t) {
        synchronized (this) {
            if (!stopped) {
                return;
            }
            now = t;
            stopped = false;
            if (!threadStarted) {
                try {
                    thread.start();
                    threadStarted = true;
                } catch (Throwable e) {
                    unavailable = true;
                    stopped = true;
                }
            } else {
                LockSupport.unpark(thread);
            }
        }
    }

    @Override
    public void run() {
        try {
            for (int ticks = 1; ; ticks++) {
                TimeUnit.NANOSECONDS.sleep(TICK_NANOS);
                long t = System.nanoTime();
                now = t;
                if (ticks % PROBE_EVERY == 0) {
                    // a stamp that read the clock before this saw it running and at most a tick old; one
                    // after it reads the system clock, and enough of them within a tick start it again
                    windowStart = t;
                    stamps = 0;
                    stopped = true;
                    while (stopped) {
                        LockSupport.park(this);
                        if (Thread.interrupted()) {
                            return;
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            // the JVM is ending
        }
    }

    /** The clock's thread (for tests). */
    Thread thread() {
        return thread;
    }

    /** Whether the thread ticks now (for tests). */
    boolean ticking() {
        return !stopped;
    }
}
