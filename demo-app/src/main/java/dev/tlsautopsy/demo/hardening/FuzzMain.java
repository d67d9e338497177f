package dev.tlsautopsy.demo.hardening;

import dev.tlsautopsy.demo.conn.TlsConn;
import dev.tlsautopsy.demo.proxy.FuzzProxy;
import dev.tlsautopsy.demo.scenario.Env;
import dev.tlsautopsy.demo.scenario.Json;
import dev.tlsautopsy.demo.scenario.Records;
import dev.tlsautopsy.demo.tls.TlsContexts;
import static dev.tlsautopsy.demo.scenario.Env.attempt;
import static dev.tlsautopsy.demo.scenario.Env.bytes;
import static dev.tlsautopsy.demo.scenario.Env.read;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Seeded corruptions of real TLS 1.2 and 1.3 streams (see {@link FuzzProxy}) over SSLSocket, SSLEngine
 * and Netty. Each seed is one connection: the client says ping, the server pong, both close; every
 * read and the handshake give up after a timeout. Writes per seed what each side's
 * application saw and, with the agent, the records matched to the seed by peer port:
 * {@code FuzzMain --from 0 --to 1000 [--parallel 12] --out fuzz.json}, or {@code --seeds 7,42}.
 */
public final class FuzzMain {

    /** The client gives up first, the server later: fewer endings decided by two timers racing. */
    public static final int CLIENT_TIMEOUT_MILLIS = 1500;
    public static final int SERVER_TIMEOUT_MILLIS = 2500;
    public static final Env.Api[] APIS = {Env.Api.SSLSocket, Env.Api.SSLEngine, Env.Api.Netty};

    private FuzzMain() {
    }

    /** What seed {@code seed} does: API, protocol and the damage. */
    public static Object[] plan(long seed) {
        Random r = new Random(seed);
        Env.Api api = APIS[r.nextInt(APIS.length)];
        String protocol = r.nextBoolean() ? "TLSv1.3" : "TLSv1.2";
        FuzzProxy.Kind kind = FuzzProxy.Kind.values()[r.nextInt(FuzzProxy.Kind.values().length)];
        boolean towardsClient = r.nextBoolean();
        int offset;
        switch (kind) {
            case DUPLICATE:
            case REORDER:
                offset = r.nextInt(8);      // a record index
                break;
            default:
                // offsets in the headers, the handshake and the application records alike
                int[] classes = {5, 64, 512, 2048, 4096};
                offset = r.nextInt(classes[r.nextInt(classes.length)]);
        }
        return new Object[] {api, protocol, kind, towardsClient, offset, r.nextLong()};
    }

    public static void main(String[] args) throws Exception {
        List<Long> seeds = new ArrayList<>();
        int parallel = 12;
        String out = "fuzz.json";
        long from = 0;
        long to = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--from": from = Long.parseLong(args[++i]); break;
                case "--to": to = Long.parseLong(args[++i]); break;
                case "--seeds":
                    for (String s : args[++i].split(",")) {
                        seeds.add(Long.parseLong(s.trim()));
                    }
                    break;
                case "--parallel": parallel = Integer.parseInt(args[++i]); break;
                case "--out": out = args[++i]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        for (long s = from; s < to; s++) {
            seeds.add(s);
        }
        Records records = Records.subscribe(10_000);
        TlsContexts tls = new TlsContexts();
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        List<Future<Map<String, Object>>> runs = new ArrayList<>();
        long t0 = System.nanoTime();
        for (long seed : seeds) {
            runs.add(pool.submit(() -> run(seed, tls, records)));
        }
        List<Map<String, Object>> results = new ArrayList<>();
        for (Future<Map<String, Object>> f : runs) {
            results.add(f.get(10, TimeUnit.MINUTES));
        }
        pool.shutdown();
        int expected = 2 * results.size();
        records.awaitCount(expected, 20_000);
        // a connection's records: the first not yet taken, published after its seed began, with the
        // role and peer port its side saw (ports are reused, but only once their connection is over)
        List<Map<String, Object>> all = records.since(0);
        boolean[] taken = new boolean[all.size()];
        results.sort(java.util.Comparator.comparingInt(r -> (Integer) r.get("firstRecord")));
        for (Map<String, Object> r : results) {
            int first = (Integer) r.remove("firstRecord");
            r.put("clientRecords", take(all, taken, first, "CLIENT", r.remove("proxyPort")));
            r.put("serverRecords", take(all, taken, first, "SERVER", r.remove("upstreamPort")));
        }
        int untaken = 0;
        for (boolean t : taken) {
            untaken += t ? 0 : 1;
        }
        results.sort(java.util.Comparator.comparingLong(r -> (Long) r.get("seed")));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("agent", records.agentPresent());
        doc.put("seconds", (System.nanoTime() - t0) / 1e9);
        doc.put("records", records.count());
        doc.put("recordsOfNoSeed", untaken);
        doc.put("results", results);
        Files.write(Paths.get(out), Json.write(doc).getBytes(StandardCharsets.UTF_8));
        System.out.printf("fuzz: %d seeds, %d records, agent %s%n", results.size(), records.count(), records.agentPresent());
    }

    private static List<Map<String, Object>> take(List<Map<String, Object>> all, boolean[] taken, int from, String role,
                                                  Object peerPort) {
        for (int i = from; i < all.size(); i++) {
            Map<String, Object> rec = all.get(i);
            if (!taken[i] && role.equals(rec.get("role")) && String.valueOf(peerPort).equals(String.valueOf(rec.get("peerPort")))) {
                taken[i] = true;
                List<Map<String, Object>> found = new ArrayList<>();
                found.add(rec);
                // a second record of the same connection would follow with the same port
                for (int j = i + 1; j < all.size(); j++) {
                    Map<String, Object> again = all.get(j);
                    if (!taken[j] && role.equals(again.get("role")) && rec.get("connectionId").equals(again.get("connectionId"))) {
                        taken[j] = true;
                        found.add(again);
                    }
                }
                return found;
            }
        }
        return List.of();
    }

    private static Map<String, Object> run(long seed, TlsContexts tls, Records records) {
        Object[] p = plan(seed);
        Env.Api api = (Env.Api) p[0];
        Env e = new Env(api, (String) p[1], tls);
        e.handshakeTimeoutMillis = SERVER_TIMEOUT_MILLIS;
        e.clientHandshakeTimeoutMillis = CLIENT_TIMEOUT_MILLIS;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("seed", seed);
        r.put("firstRecord", records.count());
        String error = "";
        FuzzProxy proxy = null;
        try {
            int port = e.listen();
            proxy = e.closeLater(new FuzzProxy(port, (FuzzProxy.Kind) p[2], (Boolean) p[3], (Integer) p[4], (Long) p[5]));
            Future<?> server = e.server(() -> {
                TlsConn c = e.accept();
                c.setReadTimeout(SERVER_TIMEOUT_MILLIS);
                attempt(e.serverTrace, "handshake", c::handshake);
                read(e.serverTrace, c);
                attempt(e.serverTrace, "write", () -> c.write(bytes("pong")));
                read(e.serverTrace, c);
                attempt(e.serverTrace, "close", c::close);
                return null;
            });
            TlsConn c = e.connect(proxy.port());
            c.setReadTimeout(CLIENT_TIMEOUT_MILLIS);
            attempt(e.clientTrace, "handshake", c::handshake);
            attempt(e.clientTrace, "write", () -> c.write(bytes("ping")));
            read(e.clientTrace, c);
            attempt(e.clientTrace, "close", c::close);
            Env.join(server);
        } catch (Exception ex) {
            error = ex.toString();
        } finally {
            e.close();
        }
        r.put("plan", api + " " + p[1] + " " + proxy);
        r.put("error", error);
        r.put("clientTrace", new ArrayList<>(e.clientTrace));
        r.put("serverTrace", new ArrayList<>(e.serverTrace));
        r.put("proxyPort", proxy == null ? -1 : proxy.port());
        r.put("upstreamPort", proxy == null ? -1 : proxy.upstreamLocalPort());
        return r;
    }
}
