package dev.tlsautopsy.instrument;

import java.util.ArrayList;
import java.util.List;

/** Method descriptors as the class file spells them: {@code (Ljava/nio/ByteBuffer;II)I}. */
final class Descriptors {

    private Descriptors() {
    }

    /** How many arguments the method takes. */
    static int arguments(String descriptor) {
        return argumentTypes(descriptor).size();
    }

    /** Each argument's type descriptor, in order. */
    static List<String> argumentTypes(String descriptor) {
        List<String> out = new ArrayList<>();
        int i = 1;
        while (descriptor.charAt(i) != ')') {
            int start = i;
            while (descriptor.charAt(i) == '[') {
                i++;
            }
            if (descriptor.charAt(i) == 'L') {
                i = descriptor.indexOf(';', i);
            }
            i++;
            out.add(descriptor.substring(start, i));
        }
        return out;
    }

    static String returnType(String descriptor) {
        return descriptor.substring(descriptor.indexOf(')') + 1);
    }

    /** Local variable slots a value of this type takes. */
    static int size(String type) {
        return type.equals("J") || type.equals("D") ? 2 : 1;
    }

    static boolean primitive(String type) {
        return type.length() == 1;
    }
}
