package dev.tlsautopsy.output;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tlsautopsy.Options;
import dev.tlsautopsy.classify.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** At start-up the outputs' services wait for the first ending, bounded by the summary's interval. */
class OutputsTest {

    @Test
    void servicesStartWithTheFirstEnding(@TempDir Path dir) throws Exception {
        Path summary = dir.resolve("s.json");
        Outputs outputs = new Outputs(Options.parse("interval=5", new Properties()), "test", summary);
        long startedAt = System.nanoTime();
        CompletableFuture<Void> services = CompletableFuture.runAsync(() -> outputs.startServicesOnFirstEnding(startedAt));
        // waiting: nothing has ended (a bound of 5 s, the interval)
        assertFalse(services.isDone());
        outputs.ended(SummaryWriterTest.ending(1, Outcome.CLEAN, true, "CLIENT", "a.example", 443), null);
        services.get(3, TimeUnit.SECONDS);
        // the first periodic write stays where the interval puts it, 5 s after the agent's start
        assertFalse(Files.exists(summary));
    }

    @Test
    void withoutAnEndingTheyStartAfterTheInterval(@TempDir Path dir) throws Exception {
        Path summary = dir.resolve("s.json");
        Outputs outputs = new Outputs(Options.parse("interval=1", new Properties()), "test", summary);
        long startedAt = System.nanoTime();
        CompletableFuture.runAsync(() -> outputs.startServicesOnFirstEnding(startedAt)).get(5, TimeUnit.SECONDS);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
        assertTrue(waited >= 1000, "services started after " + waited + " ms");
        // and the summary's first write follows at once: its interval is over
        for (long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); !Files.exists(summary)
                && System.nanoTime() < deadline; ) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(summary));
    }
}
