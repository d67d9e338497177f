package dev.tlsautopsy.output;

import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Outcome;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.management.MBeanNotificationInfo;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;

/**
 * The MBean behind {@code dev.tlsautopsy:type=Endings} (every api) and {@code dev.tlsautopsy:type=Endings,api=X}
 * (one api's connections: SSLSocket, SSLEngine or Netty). Only the first sends the notifications.
 */
public final class Endings extends NotificationBroadcasterSupport implements EndingsMBean {

    public static final String OBJECT_NAME = "dev.tlsautopsy:type=Endings";
    public static final String NOTIFICATION_TYPE = "dev.tlsautopsy.ending";

    private final Stats stats;
    private final LongSupplier open;
    /** One api's counts, or null for all. */
    private final String api;
    private final AtomicLong sequence = new AtomicLong();
    private volatile ObjectName name;

    Endings(Stats stats, LongSupplier open, String api) {
        super(new MBeanNotificationInfo[] {
            new MBeanNotificationInfo(new String[] {NOTIFICATION_TYPE}, Notification.class.getName(),
                    "One TLS connection ending; user data: the record's fields")
        });
        this.stats = stats;
        this.open = open;
        this.api = api;
    }

    /** Registers on the platform MBean server; returns false (and says why) when another agent copy owns the name. */
    boolean register(javax.management.MBeanServer server) {
        try {
            ObjectName n = new ObjectName(api == null ? OBJECT_NAME : OBJECT_NAME + ",api=" + api);
            server.registerMBean(this, n);
            name = n;
            return true;
        } catch (Exception e) {
            System.err.println("tls-autopsy: MBean " + OBJECT_NAME + (api == null ? "" : ",api=" + api)
                    + " not registered: " + e);
            return false;
        }
    }

    /** Set once anyone subscribes: until then an ending costs no notification at all. */
    private volatile boolean listened;

    @Override
    public void addNotificationListener(javax.management.NotificationListener listener,
                                        javax.management.NotificationFilter filter, Object handback) {
        super.addNotificationListener(listener, filter, handback);
        listened = true;
    }

    void publish(Ending e) {
        ObjectName n = name;
        if (n == null || !listened || api != null) {
            return;
        }
        Notification note = new Notification(NOTIFICATION_TYPE, n, sequence.incrementAndGet(),
                e.outcome().name() + " " + e.api() + " " + e.role() + " " + e.peerKey());
        note.setUserData(new HashMap<>(e.fields()));
        sendNotification(note);
    }

    private long count(Outcome o) {
        return api == null ? stats.count(o) : stats.count(api, o);
    }

    @Override public long getConnections() { return api == null ? stats.connections() : stats.connections(api); }
    @Override public long getOpen() { return api == null ? open.getAsLong() : Math.max(0, stats.open(api)); }
    @Override public long getCLEAN() { return count(Outcome.CLEAN); }
    @Override public long getTRUNCATED() { return count(Outcome.TRUNCATED); }
    @Override public long getSHORT_READ() { return count(Outcome.SHORT_READ); }
    @Override public long getBAD_RECORD_MAC() { return count(Outcome.BAD_RECORD_MAC); }
    @Override public long getRESET() { return count(Outcome.RESET); }
    @Override public long getFATAL_ALERT() { return count(Outcome.FATAL_ALERT); }
    @Override public long getLOCAL_ABORT() { return count(Outcome.LOCAL_ABORT); }
    @Override public long getTIMEOUT() { return count(Outcome.TIMEOUT); }
    @Override public long getABANDONED() { return count(Outcome.ABANDONED); }
    @Override public long getERROR() { return count(Outcome.ERROR); }

    @Override
    public String[] getDiagnoses() {
        java.util.List<dev.tlsautopsy.classify.Diagnoses.Diagnosis> all = stats.diagnoses();
        String[] out = new String[all.size()];
        for (int i = 0; i < out.length; i++) {
            dev.tlsautopsy.classify.Diagnoses.Diagnosis d = all.get(i);
            out[i] = d.kind() + " " + d.peer() + ": " + d.hint();
        }
        return out;
    }
}
