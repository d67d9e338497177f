package dev.tlsautopsy.instrument;

import dev.tlsautopsy.instrument.HookSet.MethodHook;
import java.util.ArrayList;
import java.util.List;

/**
 * Rewrites one method's Code attribute so that it calls {@code Hooks.enter} where it starts and
 * {@code Hooks.exit} before each return and, through a catch-all handler that rethrows, when it throws.
 * The method's own instructions are kept; branches, switches, the exception table, the stack map frames
 * and the line and local variable tables are moved to the new offsets.
 *
 * <p>Stack map frames are decoded and written back as full frames, the weaver's locals (above the
 * method's {@code max_locals}) appended to each; the catch-all handler's frame declares the method's own
 * locals as unknown ({@code Top}), which is why exit values are copies taken at the start. No type
 * hierarchy is needed and nothing is loaded. Type annotations on the code (never read at run time) are
 * dropped; a method with {@code jsr}/{@code ret} (class files before Java 6) is not woven.
 */
final class CodeRewriter {

    static final String HOOKS = "dev/tlsautopsy/bootstrap/Hooks";
    static final String ENTER = "(ILjava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;JJ)Ljava/lang/Object;";
    static final String EXIT = "(ILjava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;JJLjava/lang/Throwable;)V";
    /** Stack the weaver's calls need on top of the method's own (a hook number, 4 objects, 2 longs). */
    private static final int EXTRA_STACK = 12;

    /** A method the rewriter cannot handle. */
    static final class Unsupported extends RuntimeException {
        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    // verification types (JVMS 4.7.4), as tag << 16 | data
    private static final int TOP = 0, INTEGER = 1, FLOAT = 2, DOUBLE = 3, LONG = 4, UNINITIALIZED_THIS = 6,
            OBJECT = 7, UNINITIALIZED = 8;

    private final ClassFile cf;
    private final ClassFile.Method method;
    private final MethodHook hook;
    private final boolean isStatic;
    private final boolean constructor;
    private final List<String> argTypes;
    private final String returnType;

    private final int maxStack;
    private final int base;
    private final int codeStart;
    private final int codeLength;

    // the weaver's locals, above base (-1: not needed)
    private int token = -1;
    private int thrown = -1;
    private int ret = -1;
    private int self = -1;
    private final int[] argCopy;
    private int size;
    /** Verification types of the weaver's locals, appended to every frame. */
    private final List<Integer> appended = new ArrayList<>();

    CodeRewriter(ClassFile cf, ClassFile.Method method, MethodHook hook) {
        this.cf = cf;
        this.method = method;
        this.hook = hook;
        this.isStatic = (method.access & 0x0008) != 0;
        this.constructor = method.name.equals("<init>");
        this.argTypes = Descriptors.argumentTypes(method.descriptor);
        this.returnType = Descriptors.returnType(method.descriptor);
        int a = method.codeAttribute;
        this.maxStack = cf.u2(a + 6);
        this.base = cf.u2(a + 8);
        this.codeLength = cf.u4(a + 10);
        this.codeStart = a + 14;
        this.argCopy = new int[argTypes.size()];
        java.util.Arrays.fill(argCopy, -1);
        if (constructor) {
            return;     // reads this and its arguments in place at its returns, when this is initialised
        }
        if (hook.enter != null && hook.exit != null) {
            token = allocate(1, type(OBJECT, cf.classConstant("java/lang/Object")));
        }
        if (hook.atThrow) {
            thrown = allocate(1, TOP);
        }
        if (hook.onlyNegative) {
            // the filter reads n: the exit's first number must be what the method returns
            for (Value v : hook.exit) {
                if (Descriptors.primitive(valueType(v))) {
                    if (v.kind != Value.Kind.RETURNED) {
                        throw new Unsupported("the exit's first number is not the returned value");
                    }
                    break;
                }
            }
        }
        if (hook.exit != null) {
            for (Value v : hook.exit) {
                switch (v.kind) {
                    case RETURNED:
                        if (ret < 0 && hook.atReturn) {
                            ret = allocate(Descriptors.size(returnType), TOP);
                        }
                        break;
                    case SELF:
                    case FIELD:
                    case REMEMBERED:
                        if (self < 0) {
                            self = allocate(1, type(OBJECT, cf.thisClass));
                        }
                        break;
                    default:
                        if (argCopy[v.index] < 0) {
                            String t = argTypes.get(v.index);
                            argCopy[v.index] = allocate(Descriptors.size(t), verificationType(t));
                        }
                }
            }
        }
    }

    private static int type(int tag, int data) {
        return tag << 16 | data;
    }

    private int allocate(int slots, int verificationType) {
        int at = base + size;
        size += slots;
        if (verificationType == TOP) {
            for (int i = 0; i < slots; i++) {
                appended.add(TOP);
            }
        } else {
            appended.add(verificationType);
        }
        return at;
    }

    private int verificationType(String t) {
        switch (t.charAt(0)) {
            case 'Z': case 'B': case 'C': case 'S': case 'I': return INTEGER << 16;
            case 'J': return LONG << 16;
            case 'F': return FLOAT << 16;
            case 'D': return DOUBLE << 16;
            case 'L': return type(OBJECT, cf.classConstant(t.substring(1, t.length() - 1)));
            default: return type(OBJECT, cf.classConstant(t));
        }
    }

    private int argSlot(int index) {
        int slot = isStatic ? 0 : 1;
        for (int i = 0; i < index; i++) {
            slot += Descriptors.size(argTypes.get(i));
        }
        return slot;
    }

    // ---------------------------------------------------------------- the code inserted

    private enum Where { ENTER, RETURN, THROW }

    /** Bytes of code, with the offset of a frame it needs (the lookup's skip target), if any. */
    private final class Code {
        final Bytes o = new Bytes();
        int skipFrame = -1;

        void op(int opcode) {
            o.write(opcode);
        }

        void u2(int v) {
            o.write(v >> 8);
            o.write(v);
        }

        void local(int opcode, int index) {
            if (index <= 0xFF) {
                o.write(opcode);
                o.write(index);
            } else {
                o.write(0xC4);  // wide
                o.write(opcode);
                u2(index);
            }
        }

        void hookNumber() {
            if (hook.hook <= Byte.MAX_VALUE) {
                o.write(0x10);  // bipush
                o.write(hook.hook);
            } else {
                o.write(0x11);  // sipush
                u2(hook.hook);
            }
        }

        void invokestatic(String owner, String name, String descriptor) {
            o.write(0xB8);
            u2(cf.methodConstant(owner, name, descriptor));
        }

        int size() {
            return o.size();
        }

        byte[] bytes() {
            return o.toByteArray();
        }
    }

    private static int load(String t) {
        switch (t.charAt(0)) {
            case 'Z': case 'B': case 'C': case 'S': case 'I': return 0x15;
            case 'J': return 0x16;
            case 'F': return 0x17;
            case 'D': return 0x18;
            default: return 0x19;
        }
    }

    private static int store(String t) {
        return load(t) + (0x36 - 0x15);
    }

    private String valueType(Value v) {
        switch (v.kind) {
            case SELF: return "L" + cf.name + ";";
            case ARGUMENT: return argTypes.get(v.index);
            case FIELD: return Weaver.fieldType(v, cf);
            case REMEMBERED: return "Ljava/lang/Object;";
            default: return returnType;
        }
    }

    private void loadValue(Code c, Value v, Where where) {
        boolean inPlace = where == Where.ENTER || constructor;
        switch (v.kind) {
            case SELF:
                c.local(0x19, inPlace ? 0 : self);
                break;
            case FIELD:
                c.local(0x19, inPlace ? 0 : self);
                c.op(0xB4);     // getfield
                c.u2(cf.fieldConstant(cf.name, v.field, Weaver.fieldType(v, cf)));
                break;
            case ARGUMENT:
                c.local(load(argTypes.get(v.index)), inPlace ? argSlot(v.index) : argCopy[v.index]);
                break;
            case REMEMBERED:
                if (cf.addRemembered) {
                    c.local(0x19, inPlace ? 0 : self);
                    c.op(0xB4);     // getfield
                    c.u2(cf.fieldConstant(cf.name, Value.REMEMBERED_FIELD, "Ljava/lang/Object;"));
                } else {
                    c.op(0x01);     // aconst_null: a class already defined has no such field
                }
                break;
            default:
                if (where == Where.THROW || ret < 0) {
                    if (Descriptors.primitive(returnType)) {
                        c.op(returnType.equals("J") ? 0x09 : returnType.equals("F") ? 0x0B
                                : returnType.equals("D") ? 0x0E : 0x03);    // lconst_0 fconst_0 dconst_0 iconst_0
                    } else {
                        c.op(0x01);     // aconst_null
                    }
                } else {
                    c.local(load(returnType), ret);
                }
        }
    }

    private static void widen(Code c, String t) {
        switch (t) {
            case "J": return;
            case "F": c.op(0x8C); return;  // f2l
            case "D": c.op(0x8F); return;  // d2l
            default: c.op(0x85);           // i2l
        }
    }

    /** The object values (padded with nulls to {@code objects}), then two longs. */
    private void push(Code c, Value[] values, int objects, Where where) {
        int pushed = 0;
        for (Value v : values) {
            if (!Descriptors.primitive(valueType(v))) {
                loadValue(c, v, where);
                pushed++;
            }
        }
        for (; pushed < objects; pushed++) {
            c.op(0x01);
        }
        int numbers = 0;
        for (Value v : values) {
            String t = valueType(v);
            if (Descriptors.primitive(t)) {
                loadValue(c, v, where);
                widen(c, t);
                numbers++;
            }
        }
        for (; numbers < 2; numbers++) {
            c.op(0x09);     // lconst_0
        }
    }

    /** What runs before the method's first instruction. */
    private Code prologue() {
        Code c = new Code();
        if (constructor) {
            return c;
        }
        if (hook.lookup) {
            // if (Hooks.wantsLookup(hook)) Hooks.lookup(hook, MethodHandles.lookup());
            c.hookNumber();
            c.invokestatic(HOOKS, "wantsLookup", "(I)Z");
            int branch = c.size();
            c.op(0x99);     // ifeq
            c.u2(0);
            c.hookNumber();
            c.invokestatic("java/lang/invoke/MethodHandles", "lookup", "()Ljava/lang/invoke/MethodHandles$Lookup;");
            c.invokestatic(HOOKS, "lookup", "(ILjava/lang/Object;)V");
            int skip = c.size();
            byte[] soFar = c.bytes();
            soFar[branch + 1] = (byte) ((skip - branch) >> 8);
            soFar[branch + 2] = (byte) (skip - branch);
            c.o.reset();
            c.o.write(soFar, 0, soFar.length);
            c.skipFrame = skip;
            // the original code's own first frame must not fall on the same offset
            c.op(0x00);     // nop
        }
        if (self >= 0) {
            c.local(0x19, 0);
            c.local(0x3A, self);
        }
        for (int i = 0; i < argCopy.length; i++) {
            if (argCopy[i] >= 0) {
                String t = argTypes.get(i);
                c.local(load(t), argSlot(i));
                c.local(store(t), argCopy[i]);
            }
        }
        if (hook.enter != null) {
            c.hookNumber();
            push(c, hook.enter, 4, Where.ENTER);
            c.invokestatic(HOOKS, "enter", ENTER);
            if (token >= 0) {
                c.local(0x3A, token);
            } else {
                c.op(0x57);     // pop
            }
        }
        return c;
    }

    private void exitCall(Code c, Where where) {
        c.hookNumber();
        if (token >= 0) {
            c.local(0x19, token);
        } else {
            c.op(0x01);
        }
        push(c, hook.exit, 3, where);
        if (where == Where.THROW) {
            c.local(0x19, thrown);
        } else {
            c.op(0x01);
        }
        // a return the stack cares about only when negative (a read's -1) is filtered in a call the JIT
        // inlines: a compare of the value, no load of the agent's state
        c.invokestatic(HOOKS, where == Where.RETURN && hook.onlyNegative ? "exitIfNegative" : "exit", EXIT);
    }

    /** What runs before each return: the return value (if asked for) kept aside, the exit call, back. */
    private Code atReturn() {
        Code c = new Code();
        if (ret >= 0) {
            c.local(store(returnType), ret);
        }
        exitCall(c, Where.RETURN);
        if (ret >= 0) {
            c.local(load(returnType), ret);
        }
        return c;
    }

    /** The catch-all handler: the exit call with what was thrown, then rethrow. */
    private Code handler() {
        Code c = new Code();
        c.local(0x3A, thrown);
        exitCall(c, Where.THROW);
        c.local(0x19, thrown);
        c.op(0xBF);     // athrow
        return c;
    }

    // ---------------------------------------------------------------- moving the method's own code

    private int op(int offset) {
        return cf.u1(codeStart + offset);
    }

    private static boolean isReturn(int opcode) {
        return opcode >= 0xAC && opcode <= 0xB1;
    }

    private static int switchPadding(int offset) {
        return (4 - (offset + 1) % 4) % 4;
    }

    /** Length of the instruction at {@code offset} when it sits at {@code at} (switch padding moves). */
    private int length(int offset, int at) {
        int opcode = op(offset);
        switch (opcode) {
            case 0x10: case 0x12: case 0x15: case 0x16: case 0x17: case 0x18: case 0x19: case 0x36: case 0x37:
            case 0x38: case 0x39: case 0x3A: case 0xA9: case 0xBC:
                return 2;
            case 0x11: case 0x13: case 0x14: case 0x84: case 0xB2: case 0xB3: case 0xB4: case 0xB5: case 0xB6:
            case 0xB7: case 0xB8: case 0xBB: case 0xBD: case 0xC0: case 0xC1: case 0xC6: case 0xC7:
                return 3;
            case 0xC5:
                return 4;
            case 0xB9: case 0xBA: case 0xC8: case 0xC9:
                return 5;
            case 0xC4:
                return op(offset + 1) == 0x84 ? 6 : 4;
            case 0xAA: {
                int p = offset + 1 + switchPadding(offset);
                int low = cf.u4(codeStart + p + 4);
                int high = cf.u4(codeStart + p + 8);
                return 1 + switchPadding(at) + 12 + 4 * (high - low + 1);
            }
            case 0xAB: {
                int p = offset + 1 + switchPadding(offset);
                return 1 + switchPadding(at) + 8 + 8 * cf.u4(codeStart + p + 4);
            }
            default:
                if (opcode >= 0x99 && opcode <= 0xA8) {
                    return 3;
                }
                return 1;
        }
    }

    /** The woven Code attribute, complete (name index and length included). */
    byte[] rewrite() {
        Code prologue = prologue();
        Code exit = hook.exit != null && hook.atReturn ? atReturn() : null;
        Code handler = hook.atThrow && !constructor ? handler() : null;

        // new offsets: of each instruction, and of the exit code inserted before each return
        int[] newPos = new int[codeLength + 1];
        int[] exitPos = new int[codeLength + 1];
        java.util.Arrays.fill(newPos, -1);
        java.util.Arrays.fill(exitPos, -1);
        int pos = prologue.size();
        for (int o = 0; o < codeLength; ) {
            int opcode = op(o);
            if (opcode == 0xA8 || opcode == 0xA9 || opcode == 0xC9) {
                throw new Unsupported("jsr/ret");
            }
            if (exit != null && isReturn(opcode)) {
                exitPos[o] = pos;
                pos += exit.size();
            }
            newPos[o] = pos;
            pos += length(o, pos);
            o += length(o, o);
        }
        int codeEnd = pos;
        newPos[codeLength] = codeEnd;
        int handlerPos = codeEnd;
        if (handler != null) {
            pos += handler.size();
        }
        if (pos > 0xFFFF) {
            throw new Unsupported("code too large");
        }

        // the code
        Bytes code = new Bytes(pos);
        code.write(prologue.bytes(), 0, prologue.size());
        byte[] exitBytes = exit == null ? null : exit.bytes();
        for (int o = 0; o < codeLength; ) {
            int opcode = op(o);
            if (exitPos[o] >= 0) {
                code.write(exitBytes, 0, exitBytes.length);
            }
            int at = newPos[o];
            int len = length(o, o);
            if ((opcode >= 0x99 && opcode <= 0xA7) || opcode == 0xC6 || opcode == 0xC7) {
                int rel = target(o + cf.s2(codeStart + o + 1), newPos, exitPos) - at;
                if (rel < Short.MIN_VALUE || rel > Short.MAX_VALUE) {
                    throw new Unsupported("branch too far");
                }
                code.write(opcode);
                code.write(rel >> 8);
                code.write(rel);
            } else if (opcode == 0xC8) {
                code.write(opcode);
                put4(code, target(o + cf.u4(codeStart + o + 1), newPos, exitPos) - at);
            } else if (opcode == 0xAA || opcode == 0xAB) {
                code.write(opcode);
                for (int i = 0; i < switchPadding(at); i++) {
                    code.write(0);
                }
                int p = o + 1 + switchPadding(o);
                put4(code, target(o + cf.u4(codeStart + p), newPos, exitPos) - at);
                if (opcode == 0xAA) {
                    int low = cf.u4(codeStart + p + 4);
                    int high = cf.u4(codeStart + p + 8);
                    put4(code, low);
                    put4(code, high);
                    for (int i = 0; i <= high - low; i++) {
                        put4(code, target(o + cf.u4(codeStart + p + 12 + 4 * i), newPos, exitPos) - at);
                    }
                } else {
                    int pairs = cf.u4(codeStart + p + 4);
                    put4(code, pairs);
                    for (int i = 0; i < pairs; i++) {
                        put4(code, cf.u4(codeStart + p + 8 + 8 * i));
                        put4(code, target(o + cf.u4(codeStart + p + 12 + 8 * i), newPos, exitPos) - at);
                    }
                }
            } else {
                code.write(cf.b, codeStart + o, len);
            }
            o += len;
        }
        if (handler != null) {
            code.write(handler.bytes(), 0, handler.size());
        }
        byte[] newCode = code.toByteArray();
        if (newCode.length != pos) {
            throw new IllegalStateException("code length " + newCode.length + ", expected " + pos);
        }

        // the exception table, ours last so that the method's own handlers come first
        Bytes out = new Bytes(newCode.length + 256);
        int at = codeStart + codeLength;
        int exceptions = cf.u2(at);
        Bytes table = new Bytes();
        for (int i = 0; i < exceptions; i++) {
            int e = at + 2 + 8 * i;
            put2(table, target(cf.u2(e), newPos, exitPos));
            put2(table, target(cf.u2(e + 2), newPos, exitPos));
            put2(table, target(cf.u2(e + 4), newPos, exitPos));
            put2(table, cf.u2(e + 6));
        }
        if (handler != null) {
            put2(table, prologue.size());
            put2(table, codeEnd);
            put2(table, handlerPos);
            put2(table, 0);
            exceptions++;
        }
        at += 2 + 8 * cf.u2(at);

        // the attributes of the code
        List<byte[]> attributes = new ArrayList<>();
        boolean frames = cf.majorVersion >= 50;
        boolean hadFrames = false;
        int count = cf.u2(at);
        at += 2;
        for (int i = 0; i < count; i++) {
            String name = cf.utf8(cf.u2(at));
            int length = cf.u4(at + 2);
            int body = at + 6;
            switch (name) {
                case "StackMapTable":
                    hadFrames = true;
                    attributes.add(frames(cf.u2(at), body, newPos, exitPos, prologue.skipFrame, handler == null ? -1 : handlerPos));
                    break;
                case "LineNumberTable":
                    attributes.add(lineNumbers(at, newPos, exitPos));
                    break;
                case "LocalVariableTable":
                case "LocalVariableTypeTable":
                    attributes.add(localVariables(at, newPos, exitPos));
                    break;
                default:
                    // type annotations and anything unknown hold offsets that cannot be moved: dropped
                    break;
            }
            at = body + length;
        }
        if (frames && !hadFrames && (prologue.skipFrame >= 0 || handler != null)) {
            attributes.add(frames(cf.utf8Constant("StackMapTable"), -1, newPos, exitPos, prologue.skipFrame,
                    handler == null ? -1 : handlerPos));
        }

        int newMaxStack = maxStack + EXTRA_STACK;
        int newMaxLocals = base + size;
        if (newMaxStack > 0xFFFF || newMaxLocals > 0xFFFF) {
            throw new Unsupported("too many locals");
        }
        put2(out, newMaxStack);
        put2(out, newMaxLocals);
        put4(out, newCode.length);
        out.write(newCode, 0, newCode.length);
        put2(out, exceptions);
        byte[] t = table.toByteArray();
        out.write(t, 0, t.length);
        put2(out, attributes.size());
        for (byte[] a : attributes) {
            out.write(a, 0, a.length);
        }
        byte[] body = out.toByteArray();
        Bytes whole = new Bytes(body.length + 6);
        put2(whole, cf.u2(method.codeAttribute));
        put4(whole, body.length);
        whole.write(body, 0, body.length);
        return whole.toByteArray();
    }

    /** Where a jump (or a range bound) to an old offset lands: the exit code before a return, or the instruction. */
    private static int target(int old, int[] newPos, int[] exitPos) {
        if (old < 0 || old >= newPos.length || newPos[old] < 0) {
            throw new Unsupported("jump into the middle of an instruction");
        }
        return exitPos[old] >= 0 ? exitPos[old] : newPos[old];
    }

    private static void put2(Bytes o, int v) {
        o.write(v >> 8);
        o.write(v);
    }

    private static void put4(Bytes o, int v) {
        o.write(v >>> 24);
        o.write(v >> 16);
        o.write(v >> 8);
        o.write(v);
    }

    private byte[] lineNumbers(int at, int[] newPos, int[] exitPos) {
        Bytes o = new Bytes();
        put2(o, cf.u2(at));
        int n = cf.u2(at + 6);
        put4(o, 2 + 4 * n);
        put2(o, n);
        for (int i = 0; i < n; i++) {
            int e = at + 8 + 4 * i;
            put2(o, target(cf.u2(e), newPos, exitPos));
            put2(o, cf.u2(e + 2));
        }
        return o.toByteArray();
    }

    private byte[] localVariables(int at, int[] newPos, int[] exitPos) {
        Bytes o = new Bytes();
        put2(o, cf.u2(at));
        int n = cf.u2(at + 6);
        put4(o, 2 + 10 * n);
        put2(o, n);
        for (int i = 0; i < n; i++) {
            int e = at + 8 + 10 * i;
            int start = target(cf.u2(e), newPos, exitPos);
            int end = target(cf.u2(e) + cf.u2(e + 2), newPos, exitPos);
            put2(o, start);
            put2(o, end - start);
            put2(o, cf.u2(e + 4));
            put2(o, cf.u2(e + 6));
            put2(o, cf.u2(e + 8));
        }
        return o.toByteArray();
    }

    // ---------------------------------------------------------------- stack map frames

    /** The implicit frame at the method's start: {@code this} and the arguments. */
    private List<Integer> initialLocals() {
        List<Integer> locals = new ArrayList<>();
        if (!isStatic) {
            locals.add(constructor && !"java/lang/Object".equals(cf.name) ? UNINITIALIZED_THIS << 16
                    : type(OBJECT, cf.thisClass));
        }
        for (String t : argTypes) {
            locals.add(verificationType(t));
        }
        return locals;
    }

    private int readType(int[] at) {
        int tag = cf.u1(at[0]);
        at[0]++;
        if (tag == OBJECT || tag == UNINITIALIZED) {
            int data = cf.u2(at[0]);
            at[0] += 2;
            return type(tag, data);
        }
        return tag << 16;
    }

    private static int slots(List<Integer> locals) {
        int n = 0;
        for (int t : locals) {
            int tag = t >>> 16;
            n += tag == LONG || tag == DOUBLE ? 2 : 1;
        }
        return n;
    }

    /**
     * All frames, decoded from the original table ({@code body} -1: none), moved, the weaver's locals
     * appended, plus the frames the inserted code needs; written back as full frames.
     */
    private byte[] frames(int nameIndex, int body, int[] newPos, int[] exitPos, int skipFrame, int handlerPos) {
        List<int[]> offsets = new ArrayList<>();     // {new offset}
        List<List<Integer>> localsOf = new ArrayList<>();
        List<List<Integer>> stackOf = new ArrayList<>();
        if (skipFrame >= 0) {
            offsets.add(new int[] {skipFrame});
            localsOf.add(initialLocals());
            stackOf.add(new ArrayList<>());
        }
        if (body >= 0) {
            int n = cf.u2(body);
            int[] at = {body + 2};
            List<Integer> locals = initialLocals();
            int offset = -1;
            for (int i = 0; i < n; i++) {
                int frameType = cf.u1(at[0]);
                at[0]++;
                List<Integer> stack = new ArrayList<>();
                int delta;
                if (frameType < 64) {
                    delta = frameType;
                } else if (frameType < 128) {
                    delta = frameType - 64;
                    stack.add(readType(at));
                } else if (frameType == 247) {
                    delta = cf.u2(at[0]);
                    at[0] += 2;
                    stack.add(readType(at));
                } else if (frameType >= 248 && frameType <= 250) {
                    delta = cf.u2(at[0]);
                    at[0] += 2;
                    locals = new ArrayList<>(locals.subList(0, locals.size() - (251 - frameType)));
                } else if (frameType == 251) {
                    delta = cf.u2(at[0]);
                    at[0] += 2;
                } else if (frameType >= 252 && frameType <= 254) {
                    delta = cf.u2(at[0]);
                    at[0] += 2;
                    locals = new ArrayList<>(locals);
                    for (int k = 0; k < frameType - 251; k++) {
                        locals.add(readType(at));
                    }
                } else if (frameType == 255) {
                    delta = cf.u2(at[0]);
                    at[0] += 2;
                    int nl = cf.u2(at[0]);
                    at[0] += 2;
                    locals = new ArrayList<>();
                    for (int k = 0; k < nl; k++) {
                        locals.add(readType(at));
                    }
                    int ns = cf.u2(at[0]);
                    at[0] += 2;
                    for (int k = 0; k < ns; k++) {
                        stack.add(readType(at));
                    }
                } else {
                    throw new Unsupported("stack map frame type " + frameType);
                }
                offset = offset < 0 ? delta : offset + delta + 1;
                offsets.add(new int[] {target(offset, newPos, exitPos)});
                localsOf.add(withOurs(locals));
                stackOf.add(moved(stack, newPos));
            }
        }
        if (handlerPos >= 0) {
            List<Integer> locals = new ArrayList<>();
            for (int i = 0; i < base; i++) {
                locals.add(TOP);
            }
            locals.addAll(appended);
            List<Integer> stack = new ArrayList<>();
            stack.add(type(OBJECT, cf.classConstant("java/lang/Throwable")));
            offsets.add(new int[] {handlerPos});
            localsOf.add(locals);
            stackOf.add(stack);
        }
        Bytes o = new Bytes();
        put2(o, offsets.size());
        int previous = -1;
        for (int i = 0; i < offsets.size(); i++) {
            int offset = offsets.get(i)[0];
            if (offset <= previous) {
                throw new Unsupported("frames out of order");
            }
            o.write(255);
            put2(o, previous < 0 ? offset : offset - previous - 1);
            previous = offset;
            List<Integer> locals = moved(localsOf.get(i), newPos);
            put2(o, locals.size());
            for (int t : locals) {
                writeType(o, t);
            }
            put2(o, stackOf.get(i).size());
            for (int t : stackOf.get(i)) {
                writeType(o, t);
            }
        }
        byte[] frames = o.toByteArray();
        Bytes whole = new Bytes(frames.length + 6);
        put2(whole, nameIndex);
        put4(whole, frames.length);
        whole.write(frames, 0, frames.length);
        return whole.toByteArray();
    }

    /** A frame's locals with the weaver's after them (the method's own slots up to {@code base} unknown). */
    private List<Integer> withOurs(List<Integer> locals) {
        if (appended.isEmpty()) {
            return locals;
        }
        List<Integer> out = new ArrayList<>(locals);
        for (int n = slots(locals); n < base; n++) {
            out.add(TOP);
        }
        out.addAll(appended);
        return out;
    }

    /** {@code Uninitialized(offset)} types point at a {@code new} instruction, which moved. */
    private static List<Integer> moved(List<Integer> types, int[] newPos) {
        List<Integer> out = new ArrayList<>(types.size());
        for (int t : types) {
            if (t >>> 16 == UNINITIALIZED) {
                int old = t & 0xFFFF;
                if (old >= newPos.length || newPos[old] < 0) {
                    throw new Unsupported("uninitialized type of no instruction");
                }
                out.add(type(UNINITIALIZED, newPos[old]));
            } else {
                out.add(t);
            }
        }
        return out;
    }

    private static void writeType(Bytes o, int t) {
        int tag = t >>> 16;
        o.write(tag);
        if (tag == OBJECT || tag == UNINITIALIZED) {
            put2(o, t & 0xFFFF);
        }
    }
}
