package dev.tlsautopsy.demo;

import dev.tlsautopsy.demo.conn.TlsConn;
import dev.tlsautopsy.demo.scenario.Env;
import dev.tlsautopsy.demo.scenario.Json;
import dev.tlsautopsy.demo.scenario.Records;
import dev.tlsautopsy.demo.scenario.Scenario;
import dev.tlsautopsy.demo.scenario.ScenarioRunner;
import dev.tlsautopsy.demo.scenario.Scenarios;
import dev.tlsautopsy.demo.tls.TlsContexts;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/**
 * A JVM for attach tests and demos: opens one SSLSocket and one SSLEngine connection, prints
 * {@code ready}, waits for {@code go} on stdin (attach the agent in between), then runs scenarios,
 * closes the connections it opened before the agent came, writes what it saw to the file named by its
 * first argument, prints {@code done}, and stays up until stdin closes.
 */
public final class AttachTarget {

    private AttachTarget() {
    }

    public static void main(String[] args) throws Exception {
        String out = args.length > 0 ? args[0] : "attach-results.json";
        TlsContexts tls = new TlsContexts();
        List<Env> envs = new ArrayList<>();
        List<TlsConn> clients = new ArrayList<>();
        List<Future<?>> servers = new ArrayList<>();
        for (Env.Api api : new Env.Api[] {Env.Api.SSLSocket, Env.Api.SSLEngine}) {
            Env e = new Env(api, "TLSv1.3", tls);
            envs.add(e);
            int port = e.listen();
            servers.add(e.server(() -> {
                TlsConn c = e.accept();
                Env.attempt(e.serverTrace, "handshake", c::handshake);
                Env.read(e.serverTrace, c);
                Env.attempt(e.serverTrace, "write", () -> c.write(Env.bytes("pong")));
                Env.read(e.serverTrace, c);      // the client's close, after the agent came
                Env.attempt(e.serverTrace, "close", c::close);
                return null;
            }));
            TlsConn c = e.connect(port);
            Env.attempt(e.clientTrace, "handshake", c::handshake);
            Env.attempt(e.clientTrace, "write", () -> c.write(Env.bytes("ping")));
            Env.read(e.clientTrace, c);
            clients.add(c);
        }
        System.out.println("ready " + ProcessHandle.current().pid());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null && !line.trim().equals("go")) {
            // wait for the attach
        }

        Records records = Records.subscribe(10_000, true);
        ScenarioRunner runner = new ScenarioRunner(records, tls);
        List<ScenarioRunner.Result> results = new ArrayList<>();
        for (Env.Api api : new Env.Api[] {Env.Api.SSLSocket, Env.Api.SSLEngine}) {
            for (Scenario s : Scenarios.all()) {
                if (List.of("clean-close-client", "truncated", "reset-on-read").contains(s.name)) {
                    results.add(runner.run(s, api, "TLSv1.3"));
                }
            }
        }
        int before = records.count();
        for (int i = 0; i < clients.size(); i++) {
            Env.attempt(envs.get(i).clientTrace, "close", clients.get(i)::close);
            Env.join(servers.get(i));
            envs.get(i).close();
        }
        records.awaitCount(before + 2 * clients.size(), 10_000);

        Map<String, Object> o = new LinkedHashMap<>();
        o.put("agent", records.agentPresent());
        o.put("records", records.since(0));
        o.put("openedBeforeAttach", records.since(before));
        o.put("mbean", records.agentPresent() ? records.attributes() : null);
        o.put("results", ScenarioRunner.toMaps(results));
        Files.write(Paths.get(out), Json.write(o).getBytes(StandardCharsets.UTF_8));
        System.out.println("done");
        System.out.flush();
        while ((line = in.readLine()) != null && !line.trim().equals("exit")) {
            // stay up (for watch) until stdin closes
        }
    }
}
