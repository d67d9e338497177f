package dev.tlsautopsy.cli;

import com.sun.tools.attach.VirtualMachine;
import dev.tlsautopsy.Agent;
import dev.tlsautopsy.classify.Outcome;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import jdk.jfr.consumer.RecordedEvent;
import jdk.management.jfr.RemoteRecordingStream;

/**
 * {@code watch PID}: a live table of the endings in a running JVM, from JFR event streaming over a
 * local JMX connection, refreshed every second until Ctrl-C or the target exits.
 */
final class Watch {

    private final long[][] counts = new long[Merged.APIS.length][Merged.N];
    private final java.util.Map<String, dev.tlsautopsy.classify.Diagnoses.PeerEvidence> evidence = new java.util.HashMap<>();
    private final ArrayDeque<String> unclean = new ArrayDeque<>();
    private long endings;
    private boolean finished;

    private Watch() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 2 || !args[1].matches("\\d+")) {
            err.println("tls-autopsy: usage: watch PID");
            return 2;
        }
        String pid = args[1];
        Optional<ProcessHandle> target = ProcessHandle.of(Long.parseLong(pid));
        if (target.isEmpty()) {
            err.println("tls-autopsy: no process " + pid);
            return 1;
        }
        String url;
        try {
            VirtualMachine vm = VirtualMachine.attach(pid);
            try {
                if (vm.getSystemProperties().getProperty(Agent.ACTIVE_PROPERTY) == null) {
                    err.println("tls-autopsy: the agent is not active in " + pid + "; run: attach " + pid);
                    return 1;
                }
                url = vm.startLocalManagementAgent();
            } finally {
                vm.detach();
            }
        } catch (Exception e) {
            err.println("tls-autopsy: cannot attach to " + pid + ": " + e.getMessage());
            return 1;
        }
        return new Watch().stream(pid, url, target.get(), out, err);
    }

    private int stream(String pid, String url, ProcessHandle target, PrintStream out, PrintStream err) {
        CountDownLatch stop = new CountDownLatch(1);
        Thread onCtrlC = new Thread(stop::countDown, "tls-autopsy-watch-stop");
        Runtime.getRuntime().addShutdownHook(onCtrlC);
        try (JMXConnector jmx = JMXConnectorFactory.connect(new JMXServiceURL(url))) {
            MBeanServerConnection conn = jmx.getMBeanServerConnection();
            try (RemoteRecordingStream rs = new RemoteRecordingStream(conn)) {
                rs.enable(Summarize.EVENT).withoutStackTrace();
                rs.onEvent(Summarize.EVENT, this::add);
                rs.onClose(stop::countDown);
                rs.setMaxAge(Duration.ofSeconds(10));
                rs.startAsync();
                boolean tty = System.console() != null;
                out.println("watching " + pid + " (Ctrl-C to stop)");
                out.flush();
                while (!stop.await(1, TimeUnit.SECONDS)) {
                    if (!target.isAlive()) {
                        break;
                    }
                    print(pid, out, tty);
                }
                finished = true;
                print(pid, out, tty);
                out.println(target.isAlive() ? "stopped" : "target " + pid + " exited");
                out.flush();
                return 0;
            }
        } catch (Exception e) {
            if (!target.isAlive()) {
                if (!finished) {
                    print(pid, out, false);
                    out.println("target " + pid + " exited");
                }
                return 0;
            }
            err.println("tls-autopsy: watching " + pid + " failed: " + e.getMessage());
            return 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onCtrlC);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running
            }
        }
    }

    private synchronized void add(RecordedEvent e) {
        String api = e.getString("api");
        int a = 0;
        for (int i = 0; i < Merged.APIS.length; i++) {
            if (Merged.APIS[i].equals(api)) {
                a = i;
            }
        }
        Outcome o = Outcome.valueOf(e.getString("outcome"));
        counts[a][o.ordinal()]++;
        dev.tlsautopsy.classify.Ending ending = Merged.ending(Summarize.record(e));
        evidence.computeIfAbsent(ending.peerKey(), k -> new dev.tlsautopsy.classify.Diagnoses.PeerEvidence(k,
                "CLIENT".equals(ending.role()))).add(ending);
        endings++;
        if (o != Outcome.CLEAN) {
            if (unclean.size() == 5) {
                unclean.removeFirst();
            }
            unclean.addLast(String.format("%s %-14s %-6s %-9s %-6s %s:%d %s",
                    LocalTime.now().truncatedTo(ChronoUnit.SECONDS), o, e.getString("initiator"), api,
                    e.getString("role"), e.getString("peerHost"), e.getInt("peerPort"), e.getString("exception")));
        }
    }

    private synchronized void print(String pid, PrintStream out, boolean tty) {
        if (tty) {
            out.print("\033[H\033[2J");
        }
        out.printf("tls-autopsy watch %s  %s  %d ending(s)%n", pid, LocalTime.now().truncatedTo(ChronoUnit.SECONDS), endings);
        out.printf("%-15s", "outcome");
        for (String api : Merged.APIS) {
            out.printf(" %10s", api);
        }
        out.println();
        for (Outcome o : Outcome.all()) {
            out.printf("%-15s", o.name());
            for (long[] c : counts) {
                out.printf(" %10d", c[o.ordinal()]);
            }
            out.println();
        }
        if (!unclean.isEmpty()) {
            out.println("last unclean:");
            for (String u : unclean) {
                out.println("  " + u);
            }
        }
        java.util.List<dev.tlsautopsy.classify.Diagnoses.Diagnosis> diagnoses =
                dev.tlsautopsy.classify.Diagnoses.of(evidence.values(), 3);
        if (!diagnoses.isEmpty()) {
            out.println("diagnoses:");
            for (dev.tlsautopsy.classify.Diagnoses.Diagnosis d : diagnoses) {
                out.println("  " + d.kind() + ": " + d.hint());
            }
        }
        out.println();
        out.flush();
    }

}
