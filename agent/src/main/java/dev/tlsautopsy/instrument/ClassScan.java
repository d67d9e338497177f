package dev.tlsautopsy.instrument;

import java.util.HashMap;
import java.util.Map;
import net.bytebuddy.jar.asm.ClassReader;

/**
 * What the weaver needs to know of a class before it rewrites it, read straight from the class file
 * (no instruction is decoded): its fields' types, and for each method the size of its local variable
 * table, above which the weaver keeps its own locals.
 */
final class ClassScan {

    final int majorVersion;
    final Map<String, String> fieldTypes = new HashMap<>();
    final Map<String, Integer> maxLocals = new HashMap<>();

    ClassScan(ClassReader r) {
        majorVersion = r.readShort(6);
        char[] buf = new char[r.getMaxStringLength()];
        int u = r.header + 6;
        u += 2 + 2 * r.readUnsignedShort(u);
        int fields = r.readUnsignedShort(u);
        u += 2;
        for (int i = 0; i < fields; i++) {
            fieldTypes.put(r.readUTF8(u + 2, buf), r.readUTF8(u + 4, buf));
            u = skipAttributes(r, u + 6);
        }
        int methods = r.readUnsignedShort(u);
        u += 2;
        for (int i = 0; i < methods; i++) {
            String key = r.readUTF8(u + 2, buf) + r.readUTF8(u + 4, buf);
            int attributes = r.readUnsignedShort(u + 6);
            u += 8;
            for (int a = 0; a < attributes; a++) {
                if ("Code".equals(r.readUTF8(u, buf))) {
                    maxLocals.put(key, r.readUnsignedShort(u + 8));
                }
                u += 6 + r.readInt(u + 2);
            }
        }
    }

    private static int skipAttributes(ClassReader r, int u) {
        int attributes = r.readUnsignedShort(u);
        u += 2;
        for (int a = 0; a < attributes; a++) {
            u += 6 + r.readInt(u + 2);
        }
        return u;
    }
}
