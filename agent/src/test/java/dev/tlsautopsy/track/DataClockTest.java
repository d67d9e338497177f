package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The clock data stamps read: exact while stamps are few, at most a tick behind while they come often. */
class DataClockTest {

    private static final long BOUND_NANOS = TimeUnit.SECONDS.toNanos(5);

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND_NANOS;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(1);
        }
    }

    /** Stamps as a busy connection makes them (a tick's worth at a time) until {@code condition} holds. */
    private static void stampUntil(DataClock clock, BooleanSupplier condition, String what) throws InterruptedException {
        await(() -> {
            burst(clock);
            return condition.getAsBoolean();
        }, what);
    }

    private static void burst(DataClock clock) {
        for (int i = 0; i < DataClock.START_AT; i++) {
            clock.now();
        }
    }

    /** While the thread ticks, a stamp is a field read: two stamps in a row read the same value. */
    private static boolean readsTheField(DataClock clock) {
        long a = clock.now();
        long b = clock.now();
        return clock.ticking() && a == b;
    }

    @Test
    void ticksWhileStampsComeOftenAndStopsWhenTheyDoNot() throws Exception {
        DataClock clock = new DataClock();
        assertFalse(clock.ticking(), "no thread before the first stamp");

        long before = System.nanoTime();
        assertTrue(clock.now() >= before, "a stamp while stopped reads the system clock");
        assertFalse(clock.ticking(), "and a few stamps wake nothing");

        stampUntil(clock, () -> readsTheField(clock), "a burst of stamps within a tick starts the thread");
        // stamps keep it going, each at most a tick (and the thread's scheduling) behind
        long later = System.nanoTime();
        stampUntil(clock, () -> readsTheField(clock) && clock.now() >= later, "the ticking clock moves on");

        await(() -> !clock.ticking(), "without stamps it stops at its next probe");
        Thread.sleep(3 * DataClock.TICK_MILLIS);
        assertFalse(clock.ticking(), "nothing wakes a stopped clock but stamps");

        long restart = System.nanoTime();
        assertTrue(clock.now() >= restart, "a stamp after a stop is exact");
        stampUntil(clock, () -> readsTheField(clock), "and a burst starts the thread again");
        long afterRestart = System.nanoTime();
        stampUntil(clock, () -> readsTheField(clock) && clock.now() >= afterRestart, "which ticks");
    }

    @Test
    void slowStampsReadTheSystemClockAndWakeNothing() throws Exception {
        DataClock clock = new DataClock();
        // a churning server's pace: a stamp every millisecond, far fewer than a tick's worth
        for (int i = 0; i < 5 * DataClock.TICK_MILLIS; i++) {
            long before = System.nanoTime();
            assertTrue(clock.now() >= before, "exact");
            Thread.sleep(1);
        }
        assertFalse(clock.ticking());
        assertEquals(Thread.State.NEW, clock.thread().getState(), "its thread never started");
    }

    @Test
    void itsThreadKeepsNothingOfTheApplicationThreadThatStartsIt() throws Exception {
        DataClock clock = new DataClock();
        ClassLoader webapp = new java.net.URLClassLoader(new java.net.URL[0], null);
        ThreadGroup group = new ThreadGroup("webapp");
        Thread app = new Thread(group, () -> burst(clock), "webapp-worker");
        app.setContextClassLoader(webapp);
        app.start();
        app.join(BOUND_NANOS / 1_000_000);
        assertFalse(app.isAlive(), "the stamps returned");
        assertTrue(clock.thread().getState() != Thread.State.NEW, "the stamps started the clock");
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
