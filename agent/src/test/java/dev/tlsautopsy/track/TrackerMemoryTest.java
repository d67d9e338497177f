package dev.tlsautopsy.track;

import static org.junit.jupiter.api.Assertions.assertSame;

import dev.tlsautopsy.classify.Ending;
import dev.tlsautopsy.classify.Publisher;
import org.junit.jupiter.api.Test;

/** Objects that remember their connection in a field of their own are asked before the connection table. */
class TrackerMemoryTest {

    private final Tracker tracker = new Tracker(new Publisher() {
        @Override
        public Object started(String api) {
            return null;
        }

        @Override
        public void ended(Ending ending, Object token) {
        }
    });

    /** Remembers as a class the weaver gave the field does. */
    private static final class Remembering {
        Object field;
    }

    private final Tracker.Memory memory = new Tracker.Memory() {
        @Override
        public Object recall(Object key) {
            return key instanceof Remembering ? ((Remembering) key).field : null;
        }

        @Override
        public boolean keep(Object key, Evidence ev) {
            if (!(key instanceof Remembering)) {
                return false;
            }
            if (((Remembering) key).field == null) {
                ((Remembering) key).field = ev;
            }
            return true;
        }
    };

    @Test
    void whatAnObjectRemembersIsUsedAsItIs() {
        tracker.remembering(memory);
        Remembering engine = new Remembering();
        Evidence ev = tracker.track(engine, null, "SSLEngine", true);
        assertSame(ev, engine.field, "found or created once, then remembered");

        Evidence other = tracker.track(new Object(), null, "SSLEngine", true);
        engine.field = other;
        assertSame(other, tracker.track(engine, null, "SSLEngine", false), "not looked up in the table");
        assertSame(other, tracker.find(engine));
    }

    @Test
    void aLinkedChannelRemembersItsConnectionInsteadOfBeingAnotherName() {
        tracker.remembering(memory);
        Evidence ev = tracker.track(new Object(), null, "SSLEngine", true);
        Remembering channel = new Remembering();
        tracker.alias(channel, ev);
        assertSame(ev, channel.field);
        assertSame(ev, tracker.find(channel));
        channel.field = null;
        assertSame(null, tracker.find(channel), "nothing was put in the table for it");

        // an object that cannot remember is another name in the table, as before
        Object plain = new Object();
        tracker.alias(plain, ev);
        assertSame(ev, tracker.find(plain));
    }

    @Test
    void aConnectionWhoseRecordIsOutLeavesTheTableIfItsObjectRemembersIt() {
        tracker.remembering(memory);
        Remembering engine = new Remembering();
        Evidence ev = tracker.track(engine, null, "SSLEngine", true);
        tracker.leaveTable(engine, ev);
        engine.field = null;
        assertSame(ev, tracker.find(engine), "not before its record is out");

        engine.field = ev;
        ev.emitted = true;
        tracker.leaveTable(new Remembering(), ev);
        engine.field = null;
        assertSame(ev, tracker.find(engine), "only through the object that remembers it");

        engine.field = ev;
        tracker.leaveTable(engine, ev);
        assertSame(ev, tracker.find(engine), "its object still leads to it");
        engine.field = null;
        assertSame(null, tracker.find(engine), "the table no longer does");

        // an object that cannot remember stays in the table: nothing else would lead a late hook to it
        Object plain = new Object();
        Evidence other = tracker.track(plain, null, "SSLEngine", true);
        other.emitted = true;
        tracker.leaveTable(plain, other);
        assertSame(other, tracker.find(plain));
    }
}
