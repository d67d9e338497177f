package dev.tlsautopsy.output;

import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Outcome;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.management.MBeanNotificationInfo;
import javax.management.Notification;
import javax.management.NotificationBroadcasterSupport;
import javax.management.ObjectName;

/** The MBean behind {@code dev.tlsautopsy:type=Endings}. */
public final class Endings extends NotificationBroadcasterSupport implements EndingsMBean {

    public static final String OBJECT_NAME = "dev.tlsautopsy:type=Endings";
    public static final String NOTIFICATION_TYPE = "dev.tlsautopsy.ending";

    private final Stats stats;
    private final LongSupplier open;
    private final AtomicLong sequence = new AtomicLong();
    private volatile ObjectName name;

    Endings(Stats stats, LongSupplier open) {
        super(new MBeanNotificationInfo[] {
            new MBeanNotificationInfo(new String[] {NOTIFICATION_TYPE}, Notification.class.getName(),
                    "One TLS connection ending; user data: the record's fields")
        });
        this.stats = stats;
        this.open = open;
    }

    /** Registers on the platform MBean server; returns false (and says why) when another agent copy owns the name. */
    boolean register() {
        try {
            ObjectName n = new ObjectName(OBJECT_NAME);
            ManagementFactory.getPlatformMBeanServer().registerMBean(this, n);
            name = n;
            return true;
        } catch (Exception e) {
            System.err.println("tls-autopsy: MBean " + OBJECT_NAME + " not registered: " + e);
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
        if (n == null || !listened) {
            return;
        }
        Notification note = new Notification(NOTIFICATION_TYPE, n, sequence.incrementAndGet(),
                e.outcome().name() + " " + e.api() + " " + e.role() + " " + e.peerKey());
        note.setUserData(new HashMap<>(e.fields()));
        sendNotification(note);
    }

    @Override public long getConnections() { return stats.connections(); }
    @Override public long getOpen() { return open.getAsLong(); }
    @Override public long getCLEAN() { return stats.count(Outcome.CLEAN); }
    @Override public long getTRUNCATED() { return stats.count(Outcome.TRUNCATED); }
    @Override public long getSHORT_READ() { return stats.count(Outcome.SHORT_READ); }
    @Override public long getBAD_RECORD_MAC() { return stats.count(Outcome.BAD_RECORD_MAC); }
    @Override public long getRESET() { return stats.count(Outcome.RESET); }
    @Override public long getFATAL_ALERT() { return stats.count(Outcome.FATAL_ALERT); }
    @Override public long getLOCAL_ABORT() { return stats.count(Outcome.LOCAL_ABORT); }
    @Override public long getTIMEOUT() { return stats.count(Outcome.TIMEOUT); }
    @Override public long getABANDONED() { return stats.count(Outcome.ABANDONED); }
    @Override public long getERROR() { return stats.count(Outcome.ERROR); }
}
