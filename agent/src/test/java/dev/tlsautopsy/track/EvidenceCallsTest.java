package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The calls under way on a connection: the first caller's plain count and everyone else's atomic one. */
class EvidenceCallsTest {

    @Test
    void callsOnTheFirstThreadAndOnOthersAddUpAndReturnToZero() throws Exception {
        Evidence ev = new Evidence(1, null, "SSLSocket", "socket");
        ev.enterCall();                                 // this thread becomes the first caller
        ev.enterCall();                                 // nested
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Future<Integer> blocked = other.submit(() -> {
                ev.enterCall();                         // a reader blocked while this thread closes
                entered.countDown();
                assertTrue(release.await(10, TimeUnit.SECONDS));
                ev.exitCall();
                return ev.activeCalls();
            });
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            assertEquals(3, ev.activeCalls(), "the other thread's call is seen here");
            ev.exitCall();
            ev.exitCall();
            assertEquals(1, ev.activeCalls(), "only the other thread's call is under way");
            release.countDown();
            assertEquals(0, (int) blocked.get(10, TimeUnit.SECONDS), "seen on the thread that made the call");
        } finally {
            other.shutdownNow();
        }
        assertEquals(0, ev.activeCalls());
    }

    @Test
    void manyThreadsCallingAtOnceLeaveNoCallBehind() throws Exception {
        Evidence ev = new Evidence(2, null, "SSLEngine", "engine");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                done.add(pool.submit(() -> {
                    for (int k = 0; k < 100_000; k++) {
                        ev.enterCall();
                        ev.enterCall();
                        ev.exitCall();
                        ev.exitCall();
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, ev.activeCalls(), "whichever thread came first, every entry met its exit");
    }
}
