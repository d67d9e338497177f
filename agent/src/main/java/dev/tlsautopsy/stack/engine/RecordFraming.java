package dev.tlsautopsy.stack.engine;

import dev.tlsautopsy.track.Evidence;
import java.nio.ByteBuffer;

/**
 * Follows the 5-byte TLS record headers through the bytes an engine's unwrap consumed, so that a cut
 * can be placed: at a record boundary, or inside a record (engines that keep partial records to
 * themselves, like OpenSSL's, never say).
 */
final class RecordFraming {

    private RecordFraming() {
    }

    /** The bytes each of the unwrap's buffers advanced by since it began. */
    static void follow(Evidence ev, UnwrapSources sources) {
        if (sources.count() == 0) {
            return;
        }
        for (int i = 0; i < sources.count(); i++) {
            ByteBuffer b = sources.buffer(i);
            if (b == null) {
                continue;
            }
            int p = sources.start(i);
            int end = b.position();
            while (p < end) {
                if (ev.bodyBytesLeft > 0) {
                    int n = Math.min(ev.bodyBytesLeft, end - p);
                    ev.bodyBytesLeft -= n;
                    p += n;
                    continue;
                }
                int x = b.get(p++) & 0xFF;
                if (ev.headerBytesSeen == 3) {
                    ev.headerLength = x << 8;
                } else if (ev.headerBytesSeen == 4) {
                    ev.headerLength |= x;
                }
                if (++ev.headerBytesSeen == 5) {
                    ev.bodyBytesLeft = ev.headerLength;
                    ev.headerBytesSeen = 0;
                }
            }
        }
        ev.partialRecordBytes = ev.headerBytesSeen > 0 || ev.bodyBytesLeft > 0 ? 1 : 0;
    }
}
