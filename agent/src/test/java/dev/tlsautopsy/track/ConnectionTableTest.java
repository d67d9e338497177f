package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Evidence by identity, never another key's, until the key is collected. */
class ConnectionTableTest {

    private static final Owner OWNER = (ev, transport) -> { };

    @Test
    void everyKeyFindsItsOwnEvidenceAmongManyKeys() {
        ConnectionTable table = new ConnectionTable();
        // enough keys for every stripe to resize several times while they are created
        List<Object> keys = new ArrayList<>();
        List<Evidence> created = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            Object key = new Object();
            keys.add(key);
            created.add(table.getOrCreate(key, OWNER, "SSLEngine"));
        }
        for (int round = 0; round < 2; round++) {
            for (int i = keys.size() - 1; i >= 0; i--) {
                assertSame(created.get(i), table.get(keys.get(i)), "key " + i);
                assertSame(created.get(i), table.getOrCreate(keys.get(i), OWNER, "SSLEngine"), "key " + i);
            }
        }
        assertEquals(20_000, table.size());
        assertNull(table.get(new Object()), "a key never tracked");
        assertNull(table.get(null));
        assertNotSame(created.get(0), created.get(1));
    }

    @Test
    void aCollectedKeyLeavesTheTableAndANewKeyGetsNewEvidence() throws Exception {
        ConnectionTable table = new ConnectionTable();
        Object survivor = new Object();
        Evidence kept = table.getOrCreate(survivor, OWNER, "SSLEngine");
        Evidence gone = track(table);
        ExecutorService reaper = Executors.newSingleThreadExecutor();
        try {
            Future<Evidence> collected = reaper.submit(table::awaitCollected);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!collected.isDone() && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(10);
            }
            assertSame(gone, collected.get(1, TimeUnit.SECONDS));
        } finally {
            reaper.shutdownNow();
        }
        assertEquals(1, table.size());
        assertSame(kept, table.get(survivor));
        Evidence fresh = table.getOrCreate(new Object(), OWNER, "SSLEngine");
        assertNotNull(fresh);
        assertNotSame(gone, fresh);
    }

    /** Tracks and looks up a key that is unreachable once this returns. */
    private static Evidence track(ConnectionTable table) {
        Object key = new Object();
        Evidence ev = table.getOrCreate(key, OWNER, "SSLEngine");
        assertSame(ev, table.get(key));
        return ev;
    }
}
