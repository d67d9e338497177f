package dev.tlsautopsy.instrument;

import java.util.Arrays;

/**
 * A growing byte array for writing class files: {@code ByteArrayOutputStream} without its locks and
 * checks. The weaver runs cold, in the interpreter, on the thread loading a class; a byte written costs
 * one call here instead of three.
 */
final class Bytes {

    private byte[] a;
    private int n;

    Bytes() {
        this(64);
    }

    Bytes(int capacity) {
        a = new byte[Math.max(16, capacity)];
    }

    void write(int v) {
        if (n == a.length) {
            a = Arrays.copyOf(a, n * 2);
        }
        a[n++] = (byte) v;
    }

    void write(byte[] b, int off, int len) {
        if (n + len > a.length) {
            a = Arrays.copyOf(a, Math.max(n * 2, n + len));
        }
        System.arraycopy(b, off, a, n, len);
        n += len;
    }

    /** Appends everything written to {@code other}. */
    void write(Bytes other) {
        write(other.a, 0, other.n);
    }

    int size() {
        return n;
    }

    void reset() {
        n = 0;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(a, n);
    }
}
