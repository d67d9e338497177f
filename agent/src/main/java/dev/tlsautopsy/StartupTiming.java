package dev.tlsautopsy;

/**
 * {@code -Dtlsautopsy.debug.timing=true}: where the agent's start-up time goes, one line per step on
 * stderr, in milliseconds since the agent was entered. Plain concatenation only (a formatter would cost
 * more than some of the steps it measures).
 */
public final class StartupTiming {

    public static final boolean ON = Boolean.getBoolean("tlsautopsy.debug.timing");
    private static final long START = System.nanoTime();

    private StartupTiming() {
    }

    private static final java.util.concurrent.atomic.AtomicLong FILTER_NANOS = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicInteger FILTERED = new java.util.concurrent.atomic.AtomicInteger();

    public static void mark(String step) {
        if (ON) {
            long micros = (System.nanoTime() - START) / 1000;
            System.err.println("tls-autopsy timing: " + step + " at " + micros / 1000 + "." + (micros % 1000) / 100
                    + " ms on " + Thread.currentThread().getName() + cpu() + "; " + FILTERED.get() + " classes filtered in "
                    + FILTER_NANOS.get() / 100_000 / 10.0 + " ms");
        }
    }

    /** The transformer decided whether to weave a class in this time. */
    public static void filtered(long nanos) {
        FILTER_NANOS.addAndGet(nanos);
        FILTERED.incrementAndGet();
    }

    /** This thread's CPU time so far (Linux: /proc/thread-self/stat, in clock ticks of 10 ms). */
    private static String cpu() {
        try {
            String stat = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc/thread-self/stat")));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return ", cpu " + (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10 + " ms";
        } catch (Exception | Error e) {
            return "";
        }
    }
}
