package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The clock data stamps read: exact when a connection starts, a tick behind at most while any is open. */
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
    void ticksWhileAConnectionIsOpenAndStopsWhenNoneIs() throws Exception {
        AtomicLong open = new AtomicLong();
        DataClock clock = new DataClock(open::get);
        assertFalse(clock.ticking(), "no thread before the first connection");

        open.incrementAndGet();
        long before = System.nanoTime();
        clock.connectionStarted();
        assertTrue(clock.now() >= before, "exact when a connection starts");

        long later = System.nanoTime();
        await(() -> clock.now() >= later, "the clock moves on while the connection is open");

        open.decrementAndGet();
        await(() -> !clock.ticking(), "the clock stops once nothing is open");
        long stopped = clock.now();
        Thread.sleep(5 * DataClock.TICK_MILLIS);
        assertEquals(stopped, clock.now(), "a stopped clock does not tick");

        open.incrementAndGet();
        long restart = System.nanoTime();
        clock.connectionStarted();
        assertTrue(clock.now() >= restart, "a stopped clock is exact again before the new connection's data");
        assertTrue(clock.ticking());
        long afterRestart = System.nanoTime();
        await(() -> clock.now() >= afterRestart, "and ticks again");
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
