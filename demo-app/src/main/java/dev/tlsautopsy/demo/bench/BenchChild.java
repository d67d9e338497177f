package dev.tlsautopsy.demo.bench;

import dev.tlsautopsy.demo.conn.MemoryPair;
import dev.tlsautopsy.demo.conn.TlsConn;
import dev.tlsautopsy.demo.scenario.Env;
import dev.tlsautopsy.demo.scenario.Records;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One benchmark workload in its own JVM, run by {@link Bench} with and without the agent. Prints one
 * line {@code result <name> <value> <unit>}.
 *
 * <pre>
 * churn API N [R [W]] N connections one after another: TLS 1.3 handshake, 1 KiB each way, clean close;
 *                    after a warm-up of W connections (default: N; 8 N in paired turns), R measured rounds,
 *                    each printing {@code round churn-API <CPU ns per connection>}
 * echo API N        one connection, N echoes of 1 KiB after N of warm-up; prints
 *                    {@code result echo-API <bytes the application's threads allocated per echo>}, the least
 *                    of four windows of N/4
 * bulk MIB R         R rounds of MIB MiB through an in-memory SSLEngine pair, each printing
 *                    {@code round bulk <CPU ns per MiB>}
 *                    (R = 0: paired turns; before each round the child prints {@code turn ready} and waits for a
 *                    line on its stdin, so that {@link Bench} can alternate two live JVMs round by round; it ends
 *                    at EOF)
 * finished N         N in-memory connections opened and closed; then the heap still in use
 * open N             N in-memory connections handshaken and kept open; then the heap in use
 * begun N            N client connections whose hello went out, all kept (none ends before the JVM)
 * first-handshake MS milliseconds from JVM start to the first handshake, the application's TLS starting MS ms in
 * </pre>
 */
public final class BenchChild {

    private BenchChild() {
    }

    public static void main(String[] args) throws Exception {
        TlsContexts tls = new TlsContexts();
        switch (args[0]) {
            case "churn":
                int n = Integer.parseInt(args[2]);
                int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 1;
                int warm = args.length > 4 ? Integer.parseInt(args[4]) : rounds == 0 ? 8 * n : Math.max(50, n);
                churn(tls, Env.Api.valueOf(args[1]), n, rounds, warm);
                break;
            case "echo":
                echo(tls, Env.Api.valueOf(args[1]), Integer.parseInt(args[2]));
                break;
            case "bulk":
                bulk(tls, Integer.parseInt(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 1);
                break;
            case "finished":
                finished(tls, Integer.parseInt(args[1]));
                break;
            case "open":
                open(tls, Integer.parseInt(args[1]));
                break;
            case "begun":
                begun(tls, Integer.parseInt(args[1]));
                break;
            case "abandoned":
                abandoned(tls, Integer.parseInt(args[1]));
                break;
            case "idle":
                // an attach target: says ready, stays up until its stdin closes
                System.out.println("ready " + ProcessHandle.current().pid());
                System.out.flush();
                while (System.in.read() >= 0) {
                    // wait
                }
                break;
            default:
                throw new IllegalArgumentException("unknown workload " + args[0]);
        }
    }

    /** CPU time of the whole process (every thread: the workload's, the JIT's, the GC's), in nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * CPU time of the Java threads, in nanoseconds: the whole process less the JVM's own compiler, GC and VM
     * threads (Linux, from {@code /proc/self/task/<tid>/schedstat}). Those threads work on their own schedule
     * (a compilation or a concurrent cycle lands in whichever round it lands in) and made the throughput
     * rounds vary by +-25 %; the application's threads and the agent's (hooks and background threads
     * alike) are all counted. Threads that ended during the round are counted too (they are in the
     * process's time). Falls back to the whole process elsewhere.
     */
    static long javaThreadsCpuNanos() {
        long process = processCpuNanos();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return process;
        }
        long jvm = 0;
        for (java.io.File t : tasks) {
            try {
                String comm = new String(java.nio.file.Files.readAllBytes(new java.io.File(t, "comm").toPath())).trim();
                if (jvmInternal(comm)) {
                    String sched = new String(java.nio.file.Files.readAllBytes(new java.io.File(t, "schedstat").toPath()));
                    jvm += Long.parseLong(sched.substring(0, sched.indexOf(' ')));
                }
            } catch (java.io.IOException | RuntimeException ended) {
                // the thread ended while we looked
            }
        }
        return process - jvm;
    }

    private static boolean jvmInternal(String comm) {
        return comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre") || comm.startsWith("GC Thread")
                || comm.startsWith("G1 ") || comm.startsWith("VM Thread") || comm.startsWith("VM Periodic")
                || comm.startsWith("Sweeper") || comm.startsWith("Monitor Deflati");
    }

    private static final java.io.BufferedReader STDIN =
            new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));

    /** Whether round {@code done} runs: {@code rounds} of them, or (0) one per line the parent writes. */
    private static boolean another(int done, int rounds) throws java.io.IOException {
        if (rounds > 0) {
            return done < rounds;
        }
        System.out.println("turn ready");
        System.out.flush();
        return STDIN.readLine() != null;
    }

    private static void churn(TlsContexts tls, Env.Api api, int n, int rounds, int warm) throws Exception {
        byte[] kib = new byte[1024];
        // warm-up: the JIT, the session caches and the agent's first transformations are not measured (in
        // paired turns CPU per connection settles after about 1,200 connections: 8 rounds' worth first)
        churnRun(tls, api, warm, kib);
        double total = 0;
        int r = 0;
        for (; another(r, rounds); r++) {
            long cpu0 = javaThreadsCpuNanos();
            long t0 = System.nanoTime();
            churnRun(tls, api, n, kib);
            long wall = System.nanoTime() - t0;
            System.out.printf("round churn-%s %.0f cpu-ns/connection %.1f connections/s%n", api,
                    (javaThreadsCpuNanos() - cpu0) / (double) n, n / (wall / 1e9));
            System.out.flush();
            total += n / (wall / 1e9);
        }
        System.out.printf("result churn-%s %.1f connections/s%n", api, total / Math.max(1, r));
    }

    /** The windows {@link #echo} measures, for their least. */
    static final int ECHO_WINDOWS = 4;

    /**
     * One connection, then {@code n} echoes of 1 KiB after as many of warm-up: the bytes the application's
     * threads (the client, the server, Netty's event loops) allocated per echo, the connection's state
     * unchanged throughout. The measured echoes come in {@link #ECHO_WINDOWS} windows and the least of them
     * is the result: what allocates on every echo shows in each window, while the JDK's own occasional
     * allocations (JDK 25's socket, one run in four, up to 50 bytes an echo with or without the agent) miss
     * some.
     */
    private static void echo(TlsContexts tls, Env.Api api, int n) throws Exception {
        byte[] kib = new byte[1024];
        int[] segments = new int[1 + ECHO_WINDOWS];
        segments[0] = n;
        for (int w = 1; w <= ECHO_WINDOWS; w++) {
            segments[w] = n / ECHO_WINDOWS + (w == ECHO_WINDOWS ? n % ECHO_WINDOWS : 0);
        }
        try (Env e = new Env(api, "TLSv1.3", tls)) {
            e.keepResources = false;
            e.noDelay = true;
            int port = e.listen();
            java.util.concurrent.CyclicBarrier done = new java.util.concurrent.CyclicBarrier(2);
            Future<?> server = e.server(() -> {
                byte[] buf = new byte[1024];
                TlsConn c = e.accept();
                try {
                    c.handshake();
                    for (int segment : segments) {
                        for (int i = 0; i < segment; i++) {
                            readInto(c, buf);
                            c.write(buf);
                        }
                        done.await(20, java.util.concurrent.TimeUnit.SECONDS);
                    }
                    c.read(buf);            // the client's close_notify: -1
                } finally {
                    c.close();
                }
                return null;
            });
            byte[] buf = new byte[1024];
            TlsConn c = e.connect(port);
            try {
                c.handshake();
                double least = Double.MAX_VALUE;
                StringBuilder windows = new StringBuilder();
                for (int w = 0; w < segments.length; w++) {
                    long before = applicationAllocatedBytes();
                    for (int i = 0; i < segments[w]; i++) {
                        c.write(kib);
                        readInto(c, buf);
                    }
                    done.await(20, java.util.concurrent.TimeUnit.SECONDS);
                    long after = applicationAllocatedBytes();
                    if (w > 0) {
                        double perEcho = (after - before) / (double) segments[w];
                        least = Math.min(least, perEcho);
                        windows.append(String.format(" %.2f", perEcho));
                    }
                }
                System.out.printf("result echo-%s %.2f bytes/echo (the least of the windows:%s)%n", api, least, windows);
            } finally {
                c.close();
            }
            Env.join(server);
        }
    }

    /**
     * Reads the peer's {@code buf.length} bytes into {@code buf}, allocating nothing (the peer sends no more
     * before it has them all, so that a short read's rest can be read into the whole buffer again).
     */
    private static void readInto(TlsConn c, byte[] buf) throws Exception {
        int got = 0;
        while (got < buf.length) {
            int n = c.read(buf);
            if (n < 0) {
                throw new java.io.EOFException("after " + got + " bytes");
            }
            got += n;
        }
    }

    /** Bytes allocated so far by the application's threads: main, the scenario's server and Netty's loops. */
    static long applicationAllocatedBytes() {
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null && (t.getThreadName().equals("main") || t.getThreadName().startsWith("scenario-"))) {
                total += mx.getThreadAllocatedBytes(t.getThreadId());
            }
        }
        return total;
    }

    private static void churnRun(TlsContexts tls, Env.Api api, int n, byte[] kib) throws Exception {
        try (Env e = new Env(api, "TLSv1.3", tls)) {
            e.keepResources = false;
            e.noDelay = true;
            int port = e.listen();
            Future<?> server = e.server(() -> {
                byte[] buf = new byte[1024];
                for (int i = 0; i < n; i++) {
                    TlsConn c = e.accept();
                    try {
                        c.handshake();
                        readFully(c, buf);
                        c.write(buf);
                        c.read(buf);            // the client's close_notify: -1
                    } finally {
                        c.close();
                    }
                }
                return null;
            });
            byte[] buf = new byte[1024];
            for (int i = 0; i < n; i++) {
                TlsConn c = e.connect(port);
                try {
                    c.handshake();
                    c.write(kib);
                    readFully(c, buf);
                } finally {
                    c.close();
                }
            }
            Env.join(server);
        }
    }

    private static void readFully(TlsConn c, byte[] buf) throws Exception {
        int got = 0;
        while (got < buf.length) {
            byte[] part = new byte[buf.length - got];
            int n = c.read(part);
            if (n < 0) {
                throw new java.io.EOFException("after " + got + " bytes");
            }
            System.arraycopy(part, 0, buf, got, n);
            got += n;
        }
    }

    private static void bulk(TlsContexts tls, int mibPerRound, int rounds) throws Exception {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        long bytes = (long) mibPerRound << 20;
        // warm-up
        MemoryPair warm = new MemoryPair(tls, "TLSv1.3");
        warm.handshake();
        for (long sent = 0; sent < (rounds == 0 ? 2 * bytes : bytes / 2); sent += chunk.capacity()) {
            chunk.clear();
            warm.transfer(chunk);
        }
        warm.close();
        MemoryPair p = new MemoryPair(tls, "TLSv1.3");
        p.handshake();
        double total = 0;
        int r = 0;
        for (; another(r, rounds); r++) {
            long got = 0;
            long cpu0 = javaThreadsCpuNanos();
            long t0 = System.nanoTime();
            for (long sent = 0; sent < bytes; sent += chunk.capacity()) {
                chunk.clear();
                got += p.transfer(chunk);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (got < bytes) {
                throw new IllegalStateException("the server got " + got + " of " + bytes + " bytes");
            }
            System.out.printf("round bulk %.0f cpu-ns/MiB %.1f MiB/s%n", (javaThreadsCpuNanos() - cpu0) / (double) mibPerRound,
                    mibPerRound / seconds);
            System.out.flush();
            total += mibPerRound / seconds;
        }
        p.close();
        System.out.printf("result bulk %.1f MiB/s%n", total / Math.max(1, r));
    }

    private static void finished(TlsContexts tls, int n) throws Exception {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            // the cheapest real connection: the client's hello goes out, then it closes with close_notify
            javax.net.ssl.SSLEngine c = helloSent(tls);
            ByteBuffer out = ByteBuffer.allocate(c.getSession().getPacketBufferSize());
            c.closeOutbound();
            while (!c.isOutboundDone()) {
                out.clear();
                c.wrap(ByteBuffer.allocate(0), out);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("result finished-rate %.0f connections/s%n", n / seconds);
        System.out.printf("result finished-heap %d bytes%n", usedHeapAfterGc());
    }

    private static void begun(TlsContexts tls, int n) throws Exception {
        List<javax.net.ssl.SSLEngine> kept = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            kept.add(helloSent(tls));
        }
        System.out.printf("result begun %d connections%n", kept.size());
        java.lang.ref.Reference.reachabilityFence(kept);
    }

    private static void open(TlsContexts tls, int n) throws Exception {
        List<MemoryPair> pairs = new ArrayList<>();
        // the first connections create what every later one shares (the JDK's and the agent's lazily built
        // state, the JIT's code): a warm-up keeps that out of the per-connection figure
        for (int i = 0; i < 200; i++) {
            MemoryPair p = new MemoryPair(tls, "TLSv1.3");
            p.handshake();
            p.close();
        }
        long before = usedHeapAfterGc();
        for (int i = 0; i < n; i++) {
            MemoryPair p = new MemoryPair(tls, "TLSv1.3");
            p.handshake();
            p.releaseBuffers();
            pairs.add(p);
        }
        long after = usedHeapAfterGc();
        // two engines per pair: report per connection (one side), as an application holding n connections
        System.out.printf("result open-heap %d bytes%n", (after - before) / (2L * n));
        if (pairs.size() != n) {
            throw new IllegalStateException();
        }
    }

    /**
     * A client engine whose ClientHello has been wrapped: a connection has begun. TLS 1.2 only: its
     * hello needs no key share, so a million of them take minutes, not hours.
     */
    private static javax.net.ssl.SSLEngine helloSent(TlsContexts tls) throws javax.net.ssl.SSLException {
        javax.net.ssl.SSLEngine c = tls.client.createSSLEngine("localhost", 443);
        c.setUseClientMode(true);
        c.setEnabledProtocols(new String[] {"TLSv1.2"});
        c.wrap(ByteBuffer.allocate(0), ByteBuffer.allocate(c.getSession().getPacketBufferSize()));
        return c;
    }

    /** N connections started (the client's hello wrapped) and dropped without a close; then collected. */
    private static void abandoned(TlsContexts tls, int n) throws Exception {
        Records records = Records.subscribe(10_000);
        for (int i = 0; i < n; i++) {
            helloSent(tls);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (records.agentPresent() && records.count() < n && System.nanoTime() < deadline) {
            System.gc();
            records.awaitCount(n, 200);
        }
        System.out.printf("result abandoned-records %d%n", records.count());
        System.out.printf("result abandoned-heap %d bytes%n", usedHeapAfterGc());
    }

    public static long usedHeapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
