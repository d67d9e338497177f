package dev.tlsautopsy.demo.scenario;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.MBeanServerDelegate;
import javax.management.MBeanServerNotification;
import javax.management.Notification;
import javax.management.NotificationListener;
import javax.management.ObjectName;

/**
 * Collects tls-autopsy's ending records in this JVM through the JMX notifications of
 * {@code dev.tlsautopsy:type=Endings}, without depending on the agent's classes.
 */
public final class Records implements NotificationListener {

    public static final String MBEAN = "dev.tlsautopsy:type=Endings";

    private final List<Map<String, Object>> records = new ArrayList<>();
    private final boolean agentPresent;

    private Records(boolean agentPresent) {
        this.agentPresent = agentPresent;
    }

    /** Subscribes when the agent is loaded (waiting up to {@code timeoutMillis} for its MBean). */
    public static Records subscribe(long timeoutMillis) throws Exception {
        return subscribe(timeoutMillis, false);
    }

    /** With {@code attached}, waits for the agent even though the command line does not load it. */
    public static Records subscribe(long timeoutMillis, boolean attached) throws Exception {
        boolean loaded = attached || ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(a -> a.startsWith("-javaagent:") && a.contains("tls-autopsy"));
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName(MBEAN);
        if (!server.isRegistered(name)) {
            if (!loaded) {
                return new Records(false);
            }
            CountDownLatch registered = new CountDownLatch(1);
            NotificationListener l = (n, h) -> {
                if (n instanceof MBeanServerNotification
                        && name.equals(((MBeanServerNotification) n).getMBeanName())) {
                    registered.countDown();
                }
            };
            server.addNotificationListener(MBeanServerDelegate.DELEGATE_NAME, l, null, null);
            if (!server.isRegistered(name) && !registered.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
                server.removeNotificationListener(MBeanServerDelegate.DELEGATE_NAME, l);
                return new Records(false);
            }
            server.removeNotificationListener(MBeanServerDelegate.DELEGATE_NAME, l);
        }
        Records r = new Records(true);
        server.addNotificationListener(name, r, null, null);
        return r;
    }

    public boolean agentPresent() {
        return agentPresent;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void handleNotification(Notification n, Object handback) {
        if (n.getUserData() instanceof Map) {
            synchronized (records) {
                records.add((Map<String, Object>) n.getUserData());
                records.notifyAll();
            }
        }
    }

    /** The MBean's attributes now: Connections, Open, one count per outcome and the diagnoses (a list). */
    public Map<String, Object> attributes() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName(MBEAN);
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        for (javax.management.MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
            Object v = server.getAttribute(name, a.getName());
            out.put(a.getName(), v instanceof Object[] ? List.of((Object[]) v) : v);
        }
        return out;
    }

    /** The agent's diagnoses now (the MBean's {@code Diagnoses}): kind, peer, then the hint. */
    public List<String> diagnoses() throws Exception {
        Object v = ManagementFactory.getPlatformMBeanServer().getAttribute(new ObjectName(MBEAN), "Diagnoses");
        return v instanceof String[] ? List.of((String[]) v) : List.of();
    }

    public int count() {
        synchronized (records) {
            return records.size();
        }
    }

    /** Waits until at least {@code n} records exist in total, or the timeout passes; returns the count. */
    public int awaitCount(int n, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (records) {
            while (records.size() < n) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                records.wait(left);
            }
            return records.size();
        }
    }

    /** Records from index {@code from} on. */
    public List<Map<String, Object>> since(int from) {
        synchronized (records) {
            return new ArrayList<>(records.subList(Math.min(from, records.size()), records.size()));
        }
    }
}
