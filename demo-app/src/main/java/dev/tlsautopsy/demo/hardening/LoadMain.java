package dev.tlsautopsy.demo.hardening;

import dev.tlsautopsy.demo.scenario.Env;
import dev.tlsautopsy.demo.scenario.Expect;
import dev.tlsautopsy.demo.scenario.Json;
import dev.tlsautopsy.demo.scenario.Records;
import dev.tlsautopsy.demo.scenario.Scenario;
import dev.tlsautopsy.demo.scenario.Scenarios;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many connections at once, for exact counts under concurrency: {@code --threads} threads run a seeded
 * mix of the quick scenarios whose endings are certain on both sides, over SSLSocket, SSLEngine and
 * Netty, until {@code --connections} TLS connections have been made. Writes the ground truth (the
 * outcome each side must get, counted) and the records the agent published, to compare with the
 * summary it writes at exit:
 * {@code LoadMain --threads 32 --connections 20000 --seed 1 --out load.json}.
 */
public final class LoadMain {

    /** Scenarios whose both sides end one certain way on TLS 1.3 whatever runs concurrently. */
    public static final List<String> MIX = List.of("clean-close-client", "clean-close-server", "truncated",
            "short-read-body", "short-read-header", "bad-record-mac", "reset-on-read", "reset-on-write",
            "untrusted-certificate", "plaintext-client", "close-below-tls");
    public static final Env.Api[] APIS = {Env.Api.SSLSocket, Env.Api.SSLEngine, Env.Api.Netty};

    private LoadMain() {
    }

    public static void main(String[] args) throws Exception {
        int threads = 32;
        int connections = 20_000;
        long seed = 1;
        String out = "load.json";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads": threads = Integer.parseInt(args[++i]); break;
                case "--connections": connections = Integer.parseInt(args[++i]); break;
                case "--seed": seed = Long.parseLong(args[++i]); break;
                case "--out": out = args[++i]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Records records = Records.subscribe(10_000);
        TlsContexts tls = new TlsContexts();
        Map<String, Scenario> byName = new LinkedHashMap<>();
        for (Scenario s : Scenarios.all()) {
            byName.put(s.name, s);
        }
        Map<String, Integer> truth = new TreeMap<>();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger expectedRecords = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        int total = connections;
        for (int t = 0; t < threads; t++) {
            Random random = new Random(seed * 1_000_003L + t);
            workers.add(pool.submit(() -> {
                while (started.incrementAndGet() <= total) {
                    Scenario s = byName.get(MIX.get(random.nextInt(MIX.size())));
                    Env.Api api = APIS[random.nextInt(APIS.length)];
                    if (s.name.equals("untrusted-certificate") && api == Env.Api.SSLSocket) {
                        // the rejecting client may close with the server's flight unread: under load its
                        // RST can overtake the alert, and the server's end is then truly a RESET
                        api = Env.Api.SSLEngine;
                    }
                    Env env = new Env(api, "TLSv1.3", tls);
                    try {
                        s.body.run(env);
                    } catch (Exception e) {
                        failures.add(s.name + " on " + api + ": " + e);
                    } finally {
                        env.close();
                    }
                    Expect client = s.client.apply(env);
                    Expect server = s.server.apply(env);
                    synchronized (truth) {
                        for (Expect x : new Expect[] {client, server}) {
                            if (x != null) {
                                if (x.any() || x.outcome().contains("|")) {
                                    failures.add(s.name + " on " + api + ": no certain outcome to count");
                                }
                                truth.merge(x.outcome(), 1, Integer::sum);
                                expectedRecords.incrementAndGet();
                            }
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> w : workers) {
            w.get(30, TimeUnit.MINUTES);
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - t0) / 1e9;
        records.awaitCount(expectedRecords.get(), 30_000);
        List<Map<String, Object>> all = records.since(0);
        Set<Object> ids = new HashSet<>();
        int duplicates = 0;
        Map<String, Integer> published = new TreeMap<>();
        for (Map<String, Object> r : all) {
            if (!ids.add(r.get("connectionId"))) {
                duplicates++;
            }
            published.merge(String.valueOf(r.get("outcome")), 1, Integer::sum);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("connections", total);
        result.put("threads", threads);
        result.put("seconds", seconds);
        result.put("expectedRecords", expectedRecords.get());
        result.put("truth", truth);
        result.put("published", published);
        result.put("publishedRecords", all.size());
        result.put("duplicateIds", duplicates);
        result.put("failures", failures.size() > 20 ? failures.subList(0, 20) : failures);
        Files.write(Paths.get(out), Json.write(result).getBytes(StandardCharsets.UTF_8));
        System.out.printf("load: %d connections on %d threads in %.1f s, %d records expected, %d published%n",
                total, threads, seconds, expectedRecords.get(), all.size());
    }
}
