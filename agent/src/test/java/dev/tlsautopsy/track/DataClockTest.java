package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The clock data stamps read: exact after a stop, at most a tick behind while stamps read it. */
class DataClockTest {

    private static final long BOUND_NANOS = TimeUnit.SECONDS.toNanos(5);

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND_NANOS;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(1);
        }
    }

    @Test
    void ticksWhileDataIsStampedAndStopsWhenNoneIs() throws Exception {
        DataClock clock = new DataClock();
        assertFalse(clock.ticking(), "no thread before the first stamp");

        long before = System.nanoTime();
        assertTrue(clock.now() >= before, "the first stamp reads the system clock");
        assertTrue(clock.ticking(), "and starts the thread");

        // stamps keep it going, each at most a tick (and the thread's scheduling) behind
        long later = System.nanoTime();
        await(() -> clock.now() >= later, "the clock moves on while stamps read it");

        await(() -> !clock.ticking(), "a tick without stamps stops it");
        Thread.sleep(3 * DataClock.TICK_MILLIS);
        assertFalse(clock.ticking(), "nothing wakes a stopped clock but a stamp");

        long restart = System.nanoTime();
        assertTrue(clock.now() >= restart, "a stamp after a stop is exact");
        assertTrue(clock.ticking(), "and starts the thread again");
        long afterRestart = System.nanoTime();
        await(() -> clock.now() >= afterRestart, "which ticks");
    }

    @Test
    void itsThreadKeepsNothingOfTheApplicationThreadThatStartsIt() throws Exception {
        DataClock clock = new DataClock();
        ClassLoader webapp = new java.net.URLClassLoader(new java.net.URL[0], null);
        ThreadGroup group = new ThreadGroup("webapp");
        Thread app = new Thread(group, () -> clock.now(), "webapp-worker");
        app.setContextClassLoader(webapp);
        app.start();
        app.join(BOUND_NANOS / 1_000_000);
        assertFalse(app.isAlive(), "the stamp returned");
        assertTrue(clock.ticking(), "the stamp started the clock");
        Thread t = clock.thread();
        assertEquals(null, t.getContextClassLoader(), "no application class loader held");
        assertTrue(t.getThreadGroup() != group, "not the application's thread group");
        assertTrue(t.isDaemon());
    }

    @Test
    void aStampNeverMovesTheLastDataBackBeforeTheHandshakesEnd() {
        Evidence ev = new Evidence(1, null, "SSLEngine", "engine");
        ev.handshakeDone();
        long exact = ev.lastDataNanos;
        ev.dataMoved(exact - TimeUnit.MILLISECONDS.toNanos(DataClock.TICK_MILLIS));
        assertEquals(exact, ev.lastDataNanos, "a coarse stamp a tick behind the exact one");
        ev.dataReceived(exact + 1);
        assertEquals(exact + 1, ev.lastDataNanos);
    }
}
