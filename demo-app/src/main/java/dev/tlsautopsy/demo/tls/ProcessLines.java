package dev.tlsautopsy.demo.tls;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A process's output lines as they come, so that callers can wait for one with a bounded time. */
public final class ProcessLines {

    private final List<String> lines = new ArrayList<>();

    private ProcessLines() {
    }

    public static ProcessLines of(Process p) {
        ProcessLines l = new ProcessLines();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (l) {
                        l.lines.add(line);
                        l.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "process-lines");
        t.setDaemon(true);
        t.start();
        return l;
    }

    /** True as soon as a line matches; false when {@code seconds} pass first. */
    public synchronized boolean await(Predicate<String> match, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int seen = 0;
        while (true) {
            for (; seen < lines.size(); seen++) {
                if (match.test(lines.get(seen))) {
                    return true;
                }
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
    }

    @Override
    public synchronized String toString() {
        return String.join("\n", lines);
    }
}
