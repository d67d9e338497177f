package dev.tlsautopsy.track;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The clock behind "when did application data last move", which every read, write, wrap and unwrap
 * stamps. {@code System.nanoTime()} costs 27 ns on a KVM guest's clock, about half of what the agent
 * added to a JDK SSLEngine's wrap and unwrap; this clock is a field read. A daemon thread sets it from
 * {@code System.nanoTime()} every {@value #TICK_MILLIS} ms while data moves, and stops after a tick in which
 * no stamp read it: a JVM whose connections idle pays no thread waking (each wake-up costs about 50 us
 * of CPU on this guest). The first stamp after a stop reads {@code System.nanoTime()} itself and starts the
 * thread again. A stamp is never late and at most a tick (or the thread's scheduling delay) early: an idle
 * time reads up to that much long. Idle times that matter (an idle timeout, a stale pooled connection) are
 * seconds.
 */
final class DataClock implements Runnable {

    static final long TICK_MILLIS = 20;

    private volatile long now = System.nanoTime();
    /** Whether the thread has stopped (or never started): the next stamp reads the system clock. */
    private volatile boolean stopped = true;
    /** Whether a stamp read the clock since the last tick. */
    private volatile boolean read;
    /**
     * Made with the clock, when the agent starts (so also in the agent's thread group), and started by the
     * first stamp; what else it does not inherit: {@link AgentThreads}.
     */
    private final Thread thread = AgentThreads.daemon(this, "tls-autopsy-clock");
    private boolean threadStarted;
    /** The thread could not start (no memory for its stack): every stamp reads the system clock. */
    private volatile boolean unavailable;

    /** Now, to within a tick. */
    long now() {
        if (!read) {
            read = true;    // written once a tick, by the first stamp
        }
        return stopped ? restart() : now;
    }

    private long restart() {
        long t = System.nanoTime();
        if (unavailable) {
            return t;
        }
        now = t;
        synchronized (this) {
            if (stopped) {
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
        return t;
    }

    @Override
    public void run() {
        long tick = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);
        try {
            while (true) {
                TimeUnit.NANOSECONDS.sleep(tick);
                now = System.nanoTime();
                if (!read) {
                    // a stamp that read the clock before this saw it running and at most a tick old;
                    // one after it sees it stopped and reads the system clock
                    stopped = true;
                    while (stopped) {
                        LockSupport.park(this);
                        if (Thread.interrupted()) {
                            return;
                        }
                    }
                }
                read = false;
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
