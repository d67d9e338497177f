package dev.tlsautopsy.output;

import dev.tlsautopsy.Options;
import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Publisher;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * Fans every ending out to the outputs the options ask for: counts, JFR, JMX, log, summary file. It is
 * also the count of open connections the outputs show ({@link #getAsLong}).
 */
public final class Outputs implements Publisher, LongSupplier {

    public static final String JFC = "tls-autopsy.jfc";

    private final Options options;
    /** {@code log=all} and {@code log=unclean}, decided once. */
    private final boolean logAll, logUnclean;
    private final Stats stats;
    private final JfrOutput jfr = new JfrOutput();
    private final SummaryWriter summary;
    private final String agentVersion;
    private volatile Endings mbean;
    private volatile LongSupplier open;

    /** {@code summaryPath}: where the summary goes ({@link #summaryPath(String)}), null when it is off. */
    public Outputs(Options options, String agentVersion, Path summaryPath) {
        this.options = options;
        this.logAll = "all".equals(options.log);
        this.logUnclean = "unclean".equals(options.log);
        this.agentVersion = agentVersion;
        this.stats = new Stats(options.maxPeers, options.recent);
        this.summary = summaryPath == null ? null : new SummaryWriter(summaryPath, stats, this, agentVersion);
    }

    /** Connections open now (0 until the tracker is connected). */
    @Override
    public long getAsLong() {
        LongSupplier o = open;
        return o == null ? 0 : o.getAsLong();
    }

    /** The summary's path, or null when it is off. */
    public Path summaryPath() {
        return summary == null ? null : summary.path();
    }

    public Stats stats() {
        return stats;
    }

    /** Starts the JFR recording at once (events from the first connection on). */
    public void start(LongSupplier openConnections) {
        this.open = openConnections;
        if (options.recording != null) {
            startRecording(Paths.get(options.recording).toAbsolutePath());
        }
    }

    /**
     * Registers the MBean in {@code server}, the JVM's platform MBean server, once. Called when someone
     * (the application, a JMX connector, an exporter) obtains that server, so that a JVM where nobody uses
     * JMX never pays for starting it; and at once on attach.
     */
    public synchronized void registerMBean(javax.management.MBeanServer server) {
        if (mbean != null || server == null) {
            return;
        }
        Endings m = new Endings(stats, this, null);
        if (m.register(server)) {
            mbean = m;
            for (String api : Stats.APIS) {
                new Endings(stats, this, api).register(server);
            }
        }
    }

    /** Counted down by the first ending: at start-up, the services wait for it (bounded). */
    private final CountDownLatch firstEnding = new CountDownLatch(1);
    private volatile boolean anyEnded;

    /** The longest the services wait at start-up for a first ending. */
    static final long SERVICES_AT_LATEST_MILLIS = 10_000;

    /**
     * At start-up: the outputs' services start once the first connection has ended, or after the summary's
     * interval (at most 10 s) when none has: there is nothing to report before that, and the application's
     * own start, whose first connection they would otherwise compete with for CPU, is past. On the caller's
     * (the agent's start) thread. {@code startedAt}: {@link System#nanoTime()} when the agent started.
     */
    public void startServicesOnFirstEnding(long startedAt) {
        long bound = TimeUnit.MILLISECONDS.toNanos(options.interval > 0
                ? Math.min(SERVICES_AT_LATEST_MILLIS, options.interval * 1000L) : SERVICES_AT_LATEST_MILLIS);
        try {
            firstEnding.await(Math.max(0, startedAt + bound - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        startServices(startedAt);
    }

    /**
     * The JFR statistics event and the periodic summary, its first write {@code interval} after the agent
     * started ({@code startedAt}, {@link System#nanoTime()}); on the caller's thread.
     */
    public void startServices(long startedAt) {
        LongSupplier openConnections = this;
        try {
            jfr.registerStatistics(stats, openConnections);
        } catch (Throwable t) {
            System.err.println("tls-autopsy: JFR statistics event not registered: " + t);
        }
        if (summary != null && options.interval > 0) {
            ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "tls-autopsy-summary");
                t.setDaemon(true);
                return t;
            });
            long first = Math.max(0, TimeUnit.SECONDS.toMillis(options.interval)
                    - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt));
            s.scheduleWithFixedDelay(() -> summary.write(false), first, options.interval * 1000L,
                    TimeUnit.MILLISECONDS);
        }
    }

    private void startRecording(Path destination) {
        try (InputStream in = Outputs.class.getResourceAsStream("/" + JFC)) {
            Recording r = new Recording(Configuration.create(new InputStreamReader(in, StandardCharsets.UTF_8)));
            r.setName("tls-autopsy");
            r.setToDisk(true);
            // written when JFR's own shutdown stops it (under the recorder's lock, before the repository
            // is cleared). Stopping it from our exit hook, or dumpOnExit, would race that and can leave
            // an empty file (checked on JDK 17.0.15 and 25.0.3)
            r.setDestination(destination);
            r.start();
        } catch (Exception e) {
            System.err.println("tls-autopsy: cannot start the JFR recording " + destination + ": " + e);
        }
    }

    /** Outputs that failed once: each warns once and keeps trying (a full disk may clear), the others go on. */
    private final java.util.Set<String> failing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private void failed(String output, Throwable t) {
        if (failing.add(output)) {
            System.err.println("tls-autopsy: the " + output + " output failed (" + t
                    + "); the other outputs go on, this warning is not repeated");
        }
    }

    @Override
    public void moved(String fromApi, String toApi) {
        stats.moved(fromApi, toApi);
    }

    @Override
    public Object started(String api) {
        stats.started(api);
        try {
            return jfr.started();
        } catch (Throwable t) {
            failed("JFR", t);
            return null;
        }
    }

    @Override
    public void ended(Ending ending, Object startedToken) {
        if (!anyEnded) {
            anyEnded = true;
            firstEnding.countDown();
        }
        Ending e = options.redact ? redacted(ending) : ending;
        stats.add(e);
        try {
            FAULT.check("jfr");
            jfr.ended(e, startedToken);
        } catch (Throwable t) {
            failed("JFR", t);
        }
        Endings m = mbean;
        if (m != null) {
            try {
                FAULT.check("mbean");
                m.publish(e);
            } catch (Throwable t) {
                failed("JMX", t);
            }
        }
        if (logAll || (logUnclean && !e.outcome().clean())) {
            try {
                FAULT.check("log");
                System.err.println(LogLine.format(e));
            } catch (Throwable t) {
                failed("log", t);
            }
        }
    }

    /** Test knob: {@code -Dtlsautopsy.debug.failOutput=jfr|mbean|log} makes that output throw on every ending. */
    static final Fault FAULT = new Fault(System.getProperty("tlsautopsy.debug.failOutput", ""));

    static final class Fault {
        /** The output that fails, or null: no string compared on a connection's path. */
        private final String output;

        Fault(String output) {
            this.output = output.isEmpty() ? null : output;
        }

        void check(String name) {
            if (output != null && output.equals(name)) {
                throw new IllegalStateException("test fault in the " + name + " output");
            }
        }
    }

    /** At JVM exit, after the tracker has flushed: the final summary and statistics event. */
    public void shutdown() {
        if (summary != null) {
            summary.write(true);
        }
        try {
            // best effort: JFR's own shutdown hook runs concurrently and may have closed the recordings;
            // the summary written above is the authoritative final count
            JfrOutput.commitStatistics(stats, this);
        } catch (Throwable t) {
            // JFR may already be shutting down
        }
    }

    static Ending redacted(Ending e) {
        return new Ending(e.connectionId(), e.outcome(), e.initiator(), e.handshakeCompleted(), e.closeNotifySent(),
                e.closeNotifyReceived(), e.alert(), e.alertDirection(), e.appSaw(), e.exception(), e.api(),
                e.implementation(), e.role(), redactHost(e.peerHost()), e.peerPort(), e.localPort(), e.protocol(),
                e.cipherSuite(), e.bytesIn(), e.bytesOut(), e.durationMillis(), e.idleMillis(), e.noticedAfterMillis());
    }

    /** A stable short hash of a host name: the same host always maps to the same token. */
    public static String redactHost(String host) {
        if (host == null || host.isEmpty()) {
            return "";
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(host.getBytes(StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder("host-");
            for (int i = 0; i < 4; i++) {
                b.append(String.format("%02x", d[i]));
            }
            return b.toString();
        } catch (Exception e) {
            return "host-redacted";
        }
    }
}
