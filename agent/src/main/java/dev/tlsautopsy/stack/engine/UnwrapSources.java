package dev.tlsautopsy.stack.engine;

import java.nio.ByteBuffer;

/**
 * The buffers an unwrap reads from, and where each stood when it began: one per thread, reused, so that
 * following the records through an unwrap allocates nothing.
 */
final class UnwrapSources {

    private ByteBuffer single;
    private ByteBuffer[] many;
    private int[] starts = new int[4];
    private int count;

    /** Takes the unwrap's first argument, a ByteBuffer or a ByteBuffer[]. */
    void take(Object sources) {
        single = null;
        many = null;
        count = 0;
        if (sources instanceof ByteBuffer) {
            single = (ByteBuffer) sources;
            count = 1;
        } else if (sources instanceof ByteBuffer[]) {
            many = (ByteBuffer[]) sources;
            count = many.length;
        }
        if (starts.length < count) {
            starts = new int[count];
        }
        for (int i = 0; i < count; i++) {
            ByteBuffer b = buffer(i);
            starts[i] = b == null ? 0 : b.position();
        }
    }

    int count() {
        return count;
    }

    ByteBuffer buffer(int i) {
        return single != null ? single : many[i];
    }

    /** Where buffer {@code i} stood when the unwrap began. */
    int start(int i) {
        return starts[i];
    }

    /** Bytes left unread in all the buffers now. */
    int remaining() {
        int n = 0;
        for (int i = 0; i < count; i++) {
            ByteBuffer b = buffer(i);
            if (b != null) {
                n += b.remaining();
            }
        }
        return n;
    }

    /** Drops the references (the buffers belong to the application). */
    void clear() {
        single = null;
        many = null;
        count = 0;
    }
}
