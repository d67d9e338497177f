package dev.tlsautopsy.instrument;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A class file read just enough to patch some of its methods (JVMS chapter 4): where each constant,
 * field and method is, and the strings the weaver needs; everything else is copied byte for byte.
 * New constants are appended to the constant pool, which keeps every existing index valid.
 */
final class ClassFile {

    static final int UTF8 = 1, INTEGER = 3, FLOAT = 4, LONG = 5, DOUBLE = 6, CLASS = 7, STRING = 8, FIELDREF = 9,
            METHODREF = 10, INTERFACE_METHODREF = 11, NAME_AND_TYPE = 12, METHOD_HANDLE = 15, METHOD_TYPE = 16,
            DYNAMIC = 17, INVOKE_DYNAMIC = 18, MODULE = 19, PACKAGE = 20;

    /** One method: where it is, and where its Code attribute is (-1 for none). */
    static final class Method {
        int start;
        int end;
        int access;
        String name;
        String descriptor;
        /** Offset of the Code attribute's attribute_name_index, or -1. */
        int codeAttribute = -1;
    }

    final byte[] b;
    final int majorVersion;
    final int poolCount;
    /** Offset of each constant's tag, by index (0 and the second slot of longs and doubles: 0). */
    final int[] constants;
    final int poolEnd;
    final int thisClass;
    final String name;
    final String superName;
    /** Offset of fields_count. */
    private final int fieldsAt;
    /** Offset of methods_count. */
    private final int methodsAt;
    /** Whether {@link #rewrite} adds {@link Value#REMEMBERED_FIELD}. */
    boolean addRemembered;
    final List<Method> methods = new ArrayList<>();
    /** Offset of attributes_count after the methods. */
    final int classAttributes;

    private final Bytes added = new Bytes();
    private int nextIndex;
    private final Map<String, Integer> addedIndex = new HashMap<>();

    ClassFile(byte[] b) {
        this(b, true);
    }

    /** {@code members}: false reads the constant pool and the class's names only. */
    private ClassFile(byte[] b, boolean members) {
        this.b = b;
        if (u4(0) != 0xCAFEBABE) {
            throw new IllegalArgumentException("not a class file");
        }
        majorVersion = u2(6);
        poolCount = u2(8);
        constants = new int[poolCount];
        int u = 10;
        for (int i = 1; i < poolCount; i++) {
            constants[i] = u;
            int tag = b[u] & 0xFF;
            switch (tag) {
                case UTF8: u += 3 + u2(u + 1); break;
                case INTEGER: case FLOAT: case FIELDREF: case METHODREF: case INTERFACE_METHODREF:
                case NAME_AND_TYPE: case DYNAMIC: case INVOKE_DYNAMIC: u += 5; break;
                case LONG: case DOUBLE: u += 9; i++; break;
                case CLASS: case STRING: case METHOD_TYPE: case MODULE: case PACKAGE: u += 3; break;
                case METHOD_HANDLE: u += 4; break;
                default: throw new IllegalArgumentException("unknown constant tag " + tag);
            }
        }
        poolEnd = u;
        nextIndex = poolCount;
        thisClass = u2(u + 2);
        name = className(thisClass);
        int superIndex = u2(u + 4);
        superName = superIndex == 0 ? null : className(superIndex);
        u += 6;
        u += 2 + 2 * u2(u);
        fieldsAt = u;
        if (!members) {
            classAttributes = -1;
            methodsAt = -1;
            return;
        }
        int fields = u2(u);
        u += 2;
        for (int i = 0; i < fields; i++) {
            u = skipAttributes(u + 6);
        }
        methodsAt = u;
        int count = u2(u);
        u += 2;
        for (int i = 0; i < count; i++) {
            Method m = new Method();
            m.start = u;
            m.access = u2(u);
            m.name = utf8(u2(u + 2));
            m.descriptor = utf8(u2(u + 4));
            int attributes = u2(u + 6);
            u += 8;
            for (int a = 0; a < attributes; a++) {
                if (isUtf8(u2(u), "Code")) {
                    m.codeAttribute = u;
                }
                u += 6 + u4(u + 2);
            }
            m.end = u;
            methods.add(m);
        }
        classAttributes = u;
    }

    /** The superclass named in a class file, reading nothing else that is not needed. */
    static String superName(byte[] b) {
        return new ClassFile(b, false).superName;
    }

    /** The type descriptor of the field of this name the class declares, or null. */
    String fieldType(String fieldName) {
        int u = fieldsAt;
        int fields = u2(u);
        u += 2;
        for (int i = 0; i < fields; i++) {
            if (utf8(u2(u + 2)).equals(fieldName)) {
                return utf8(u2(u + 4));
            }
            u = skipAttributes(u + 6);
        }
        return null;
    }

    private int skipAttributes(int u) {
        int attributes = u2(u);
        u += 2;
        for (int a = 0; a < attributes; a++) {
            u += 6 + u4(u + 2);
        }
        return u;
    }

    int u1(int at) {
        return b[at] & 0xFF;
    }

    int u2(int at) {
        return (b[at] & 0xFF) << 8 | b[at + 1] & 0xFF;
    }

    int s2(int at) {
        return (short) u2(at);
    }

    int u4(int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | b[at + 3] & 0xFF;
    }

    String utf8(int index) {
        int at = constants[index];
        if (u1(at) != UTF8) {
            throw new IllegalArgumentException("constant " + index + " is not a string");
        }
        int length = u2(at + 1);
        // the JDK's UTF-8 decoding, already compiled, instead of a loop of our own: the same string
        // whenever every byte is ASCII (then no character is lost or replaced); modified UTF-8 otherwise
        String s = new String(b, at + 3, length, StandardCharsets.UTF_8);
        return s.length() == length && s.indexOf('\uFFFD') < 0 ? s : modifiedUtf8(at + 3, length);
    }

    private String modifiedUtf8(int at, int length) {
        StringBuilder s = new StringBuilder(length);
        for (int i = at; i < at + length; ) {
            int c = b[i++] & 0xFF;
            if (c < 0x80) {
                s.append((char) c);
            } else if ((c & 0xE0) == 0xC0) {
                s.append((char) ((c & 0x1F) << 6 | b[i++] & 0x3F));
            } else {
                s.append((char) ((c & 0x0F) << 12 | (b[i++] & 0x3F) << 6 | b[i++] & 0x3F));
            }
        }
        return s.toString();
    }

    private boolean isUtf8(int index, String ascii) {
        int at = constants[index];
        if (u1(at) != UTF8 || u2(at + 1) != ascii.length()) {
            return false;
        }
        for (int i = 0; i < ascii.length(); i++) {
            if (b[at + 3 + i] != ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    String className(int classIndex) {
        return utf8(u2(constants[classIndex] + 1));
    }

    // ---------------------------------------------------------------- constants added by the weaver

    int utf8Constant(String s) {
        Integer known = addedIndex.get("u" + s);
        if (known != null) {
            return known;
        }
        byte[] bytes = modifiedUtf8(s);
        added.write(UTF8);
        added.write(bytes.length >> 8);
        added.write(bytes.length);
        added.write(bytes, 0, bytes.length);
        return remember("u" + s);
    }

    int classConstant(String internalName) {
        Integer known = addedIndex.get("c" + internalName);
        if (known != null) {
            return known;
        }
        int n = utf8Constant(internalName);
        added.write(CLASS);
        put2(n);
        return remember("c" + internalName);
    }

    int methodConstant(String owner, String name, String descriptor) {
        return reference(METHODREF, owner, name, descriptor);
    }

    int fieldConstant(String owner, String name, String descriptor) {
        return reference(FIELDREF, owner, name, descriptor);
    }

    private int reference(int tag, String owner, String name, String descriptor) {
        String key = tag + owner + "." + name + descriptor;
        Integer known = addedIndex.get(key);
        if (known != null) {
            return known;
        }
        int c = classConstant(owner);
        int n = utf8Constant(name);
        int d = utf8Constant(descriptor);
        added.write(NAME_AND_TYPE);
        put2(n);
        put2(d);
        int nameAndType = nextIndex++;
        added.write(tag);
        put2(c);
        put2(nameAndType);
        return remember(key);
    }

    private void put2(int v) {
        added.write(v >> 8);
        added.write(v);
    }

    private int remember(String key) {
        int index = nextIndex++;
        addedIndex.put(key, index);
        if (nextIndex > 0xFFFF) {
            throw new IllegalStateException("constant pool full");
        }
        return index;
    }

    private static byte[] modifiedUtf8(String s) {
        Bytes o = new Bytes(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 1 && c < 0x80) {
                o.write(c);
            } else if (c < 0x800) {
                o.write(0xC0 | c >> 6);
                o.write(0x80 | c & 0x3F);
            } else {
                o.write(0xE0 | c >> 12);
                o.write(0x80 | c >> 6 & 0x3F);
                o.write(0x80 | c & 0x3F);
            }
        }
        return o.toByteArray();
    }

    /**
     * The class file with the methods in {@code codes} given new Code attributes (complete attributes,
     * name index included) and the added constants appended to the pool.
     */
    byte[] rewrite(Map<Method, byte[]> codes) {
        int fieldName = addRemembered ? utf8Constant(Value.REMEMBERED_FIELD) : 0;
        int fieldType = addRemembered ? utf8Constant("Ljava/lang/Object;") : 0;
        Bytes o = new Bytes(b.length + added.size() + 1024);
        o.write(b, 0, 8);
        o.write(nextIndex >> 8);
        o.write(nextIndex);
        o.write(b, 10, poolEnd - 10);
        o.write(added);
        int at = poolEnd;
        if (addRemembered) {
            // private transient synthetic Object tlsautopsy$remembered, after the class's own fields
            o.write(b, at, fieldsAt - at);
            int fields = u2(fieldsAt) + 1;
            o.write(fields >> 8);
            o.write(fields);
            o.write(b, fieldsAt + 2, methodsAt - fieldsAt - 2);
            int access = 0x0002 | 0x0080 | 0x1000;
            for (int v : new int[] {access, fieldName, fieldType, 0}) {
                o.write(v >> 8);
                o.write(v);
            }
            at = methodsAt;
        }
        for (Method m : methods) {
            byte[] code = codes.get(m);
            if (code == null) {
                continue;
            }
            o.write(b, at, m.codeAttribute - at);
            o.write(code, 0, code.length);
            at = m.codeAttribute + 6 + u4(m.codeAttribute + 2);
        }
        o.write(b, at, b.length - at);
        return o.toByteArray();
    }
}
