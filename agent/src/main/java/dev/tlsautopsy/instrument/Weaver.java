package dev.tlsautopsy.instrument;

import dev.tlsautopsy.instrument.HookSet.MethodHook;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Weaves hook calls into a class file with plain ASM (Byte Buddy's copy, relocated with it). A woven
 * method calls {@code Hooks.enter} where it starts and {@code Hooks.exit} before each return and, through
 * a catch-all handler that rethrows, when it throws. Methods no hook asks for are copied byte for byte.
 *
 * <p>No stack map frame is computed (which would need the class hierarchy and could load classes): the
 * weaver's own locals live above the method's {@code max_locals}, are appended to every existing frame,
 * and the handler's frame declares the method's own locals as unknown ({@code TOP}). That is why exit
 * values are copies taken at the start: the handler may only read the weaver's locals. Retransformation
 * adds no method or field, so the same weaving serves {@code -javaagent} and {@code attach}.
 */
final class Weaver {

    static final String HOOKS = "dev/tlsautopsy/bootstrap/Hooks";
    static final String ENTER = "(ILjava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;JJ)Ljava/lang/Object;";
    static final String EXIT = "(ILjava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;JJLjava/lang/Throwable;)V";
    /** Stack the weaver's calls need on top of the method's own (a hook number, 4 objects, 2 longs). */
    private static final int EXTRA_STACK = 12;

    private Weaver() {
    }

    /**
     * The class with its hooked methods woven, or null when none matched. A method a hook cannot be
     * woven into (a missing field, a wrong argument) is left alone and named in {@code problems}.
     */
    static byte[] weave(byte[] classFile, List<MethodHook> hooks, List<String> problems) {
        ClassReader reader = new ClassReader(classFile);
        ClassScan scan = new ClassScan(reader);
        ClassWriter writer = new ClassWriter(reader, 0);
        int[] woven = {0};
        java.util.Set<MethodHook> matched = new java.util.HashSet<>();
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            private String owner;

            @Override
            public void visit(int version, int access, String name, String signature, String superName, String[] interfaces) {
                owner = name;
                super.visit(version, access, name, signature, superName, interfaces);
            }

            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, descriptor, signature, exceptions);
                if ((access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0) {
                    return mv;
                }
                for (MethodHook h : hooks) {
                    if (h.match.matches(access, name, descriptor)) {
                        matched.add(h);
                        Integer maxLocals = scan.maxLocals.get(name + descriptor);
                        String problem = maxLocals == null ? "no code" : check(h, access, name, descriptor, scan);
                        if (problem != null) {
                            problems.add(owner.replace('/', '.') + "." + name + descriptor + ": " + problem);
                            return mv;
                        }
                        woven[0]++;
                        return new Woven(mv, owner, access, name, descriptor, h, scan, maxLocals);
                    }
                }
                return mv;
            }
        }, ClassReader.EXPAND_FRAMES);
        for (MethodHook h : hooks) {
            if (h.required && !matched.contains(h)) {
                problems.add(reader.getClassName().replace('/', '.') + ": no method " + h.label);
            }
        }
        return woven[0] == 0 ? null : writer.toByteArray();
    }

    /** Why {@code h} cannot be woven into this method, or null. */
    private static String check(MethodHook h, int access, String name, String descriptor, ClassScan scan) {
        boolean constructor = name.equals("<init>");
        if (constructor && (h.enter != null || h.atThrow || h.lookup)) {
            return "a constructor takes an exit on return only";
        }
        List<String> args = Descriptors.argumentTypes(descriptor);
        for (Value[] values : new Value[][] {h.enter, h.exit}) {
            if (values == null) {
                continue;
            }
            int objects = 0;
            int numbers = 0;
            for (Value v : values) {
                String type;
                switch (v.kind) {
                    case SELF:
                        if ((access & Opcodes.ACC_STATIC) != 0) {
                            return "no 'this' in a static method";
                        }
                        type = "L;";
                        break;
                    case ARGUMENT:
                        if (v.index >= args.size()) {
                            return "no argument " + v.index;
                        }
                        type = args.get(v.index);
                        break;
                    case FIELD:
                        if ((access & Opcodes.ACC_STATIC) != 0) {
                            return "no 'this' to read field " + v.field + " from";
                        }
                        type = fieldType(v, scan);
                        if (type == null) {
                            return "no field " + v.field;
                        }
                        break;
                    default:
                        if (values == h.enter) {
                            return "no return value when the method starts";
                        }
                        type = Descriptors.returnType(descriptor);
                        if (type.equals("V")) {
                            return "returns nothing";
                        }
                }
                if (Descriptors.primitive(type)) {
                    numbers++;
                } else {
                    objects++;
                }
            }
            if (numbers > 2 || objects > (values == h.enter ? 4 : 3)) {
                return "too many values";
            }
        }
        return null;
    }

    /** A field's type: declared by the class itself, or given with the value for an inherited one. */
    static String fieldType(Value v, ClassScan scan) {
        String declared = scan.fieldTypes.get(v.field);
        return declared != null ? declared : v.fieldType;
    }

    /** One woven method. */
    private static final class Woven extends MethodVisitor {
        private final String owner;
        private final boolean isStatic;
        private final boolean constructor;
        private final String returnType;
        private final List<String> argTypes;
        private final MethodHook hook;
        private final ClassScan scan;
        private final boolean frames;
        private final int base;

        // the weaver's locals, above base (-1: not needed)
        private int token = -1;
        private int thrown = -1;
        private int ret = -1;
        private int self = -1;
        private final int[] argCopy;
        private int size;
        /** Frame entries for the weaver's locals, appended to every frame of the method. */
        private final List<Object> appended = new ArrayList<>();

        private final Label tryStart = new Label();
        private final Label tryEnd = new Label();
        private final Label handler = new Label();
        private boolean begun;

        Woven(MethodVisitor mv, String owner, int access, String name, String descriptor, MethodHook hook,
              ClassScan scan, int maxLocals) {
            super(Opcodes.ASM9, mv);
            this.owner = owner;
            this.isStatic = (access & Opcodes.ACC_STATIC) != 0;
            this.constructor = name.equals("<init>");
            this.returnType = Descriptors.returnType(descriptor);
            this.argTypes = Descriptors.argumentTypes(descriptor);
            this.hook = hook;
            this.scan = scan;
            this.frames = scan.majorVersion >= Opcodes.V1_6;
            this.base = maxLocals;
            this.argCopy = new int[argTypes.size()];
            java.util.Arrays.fill(argCopy, -1);
            if (constructor) {
                return;     // reads this and its arguments in place at its returns, when this is initialised
            }
            if (hook.enter != null && hook.exit != null) {
                token = allocate(1, "java/lang/Object");
            }
            if (hook.atThrow) {
                thrown = allocate(1, Opcodes.TOP);
            }
            if (hook.exit != null) {
                for (Value v : hook.exit) {
                    switch (v.kind) {
                        case RETURNED:
                            if (ret < 0) {
                                ret = allocate(Descriptors.size(returnType), Opcodes.TOP);
                            }
                            break;
                        case SELF:
                        case FIELD:
                            if (self < 0) {
                                self = allocate(1, owner);
                            }
                            break;
                        default:
                            if (argCopy[v.index] < 0) {
                                String t = argTypes.get(v.index);
                                argCopy[v.index] = allocate(Descriptors.size(t), frameType(t));
                            }
                    }
                }
            }
        }

        private int allocate(int slots, Object frameType) {
            int at = base + size;
            size += slots;
            if (frameType == Opcodes.TOP) {
                for (int i = 0; i < slots; i++) {
                    appended.add(Opcodes.TOP);
                }
            } else {
                appended.add(frameType);
            }
            return at;
        }

        private static Object frameType(String t) {
            switch (t.charAt(0)) {
                case 'Z': case 'B': case 'C': case 'S': case 'I': return Opcodes.INTEGER;
                case 'J': return Opcodes.LONG;
                case 'F': return Opcodes.FLOAT;
                case 'D': return Opcodes.DOUBLE;
                case 'L': return t.substring(1, t.length() - 1);
                default: return t;
            }
        }

        private int argSlot(int index) {
            int slot = isStatic ? 0 : 1;
            for (int i = 0; i < index; i++) {
                slot += Descriptors.size(argTypes.get(i));
            }
            return slot;
        }

        /** Before the method's first instruction (after its own handlers, so that ours comes last). */
        private void begin() {
            if (begun) {
                return;
            }
            begun = true;
            if (constructor) {
                return;
            }
            if (hook.lookup) {
                grantLookup();
            }
            if (hook.atThrow) {
                super.visitTryCatchBlock(tryStart, tryEnd, handler, null);
            }
            if (self >= 0) {
                super.visitVarInsn(Opcodes.ALOAD, 0);
                super.visitVarInsn(Opcodes.ASTORE, self);
            }
            for (int i = 0; i < argCopy.length; i++) {
                if (argCopy[i] >= 0) {
                    String t = argTypes.get(i);
                    super.visitVarInsn(load(t), argSlot(i));
                    super.visitVarInsn(load(t) + (Opcodes.ISTORE - Opcodes.ILOAD), argCopy[i]);
                }
            }
            if (hook.enter != null) {
                pushHookNumber();
                push(hook.enter, 4, Where.ENTER);
                super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "enter", ENTER, false);
                if (token >= 0) {
                    super.visitVarInsn(Opcodes.ASTORE, token);
                } else {
                    super.visitInsn(Opcodes.POP);
                }
            }
            if (hook.atThrow) {
                super.visitLabel(tryStart);
            }
        }

        /**
         * {@code if (Hooks.wantsLookup(hook)) Hooks.lookup(hook, MethodHandles.lookup());} at the very start,
         * where the frame is the method's arguments alone.
         */
        private void grantLookup() {
            Label skip = new Label();
            pushHookNumber();
            super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "wantsLookup", "(I)Z", false);
            super.visitJumpInsn(Opcodes.IFEQ, skip);
            pushHookNumber();
            super.visitMethodInsn(Opcodes.INVOKESTATIC, "java/lang/invoke/MethodHandles", "lookup",
                    "()Ljava/lang/invoke/MethodHandles$Lookup;", false);
            super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "lookup", "(ILjava/lang/Object;)V", false);
            super.visitLabel(skip);
            if (frames) {
                List<Object> locals = new ArrayList<>();
                if (!isStatic) {
                    locals.add(owner);
                }
                for (String t : argTypes) {
                    locals.add(frameType(t));
                }
                super.visitFrame(Opcodes.F_NEW, locals.size(), locals.toArray(), 0, new Object[0]);
            }
            // the original code's own first frame must not fall on the same offset
            super.visitInsn(Opcodes.NOP);
        }

        private enum Where { ENTER, RETURN, THROW }

        private void pushHookNumber() {
            super.visitIntInsn(hook.hook <= Byte.MAX_VALUE ? Opcodes.BIPUSH : Opcodes.SIPUSH, hook.hook);
        }

        /** Pushes the object values (padded with nulls to {@code objects}), then two longs. */
        private void push(Value[] values, int objects, Where where) {
            int pushed = 0;
            for (Value v : values) {
                if (!Descriptors.primitive(type(v))) {
                    load(v, where);
                    pushed++;
                }
            }
            for (; pushed < objects; pushed++) {
                super.visitInsn(Opcodes.ACONST_NULL);
            }
            int numbers = 0;
            for (Value v : values) {
                String t = type(v);
                if (Descriptors.primitive(t)) {
                    load(v, where);
                    widen(t);
                    numbers++;
                }
            }
            for (; numbers < 2; numbers++) {
                super.visitInsn(Opcodes.LCONST_0);
            }
        }

        private String type(Value v) {
            switch (v.kind) {
                case SELF: return "L" + owner + ";";
                case ARGUMENT: return argTypes.get(v.index);
                case FIELD: return fieldType(v, scan);
                default: return returnType;
            }
        }

        private void load(Value v, Where where) {
            boolean inPlace = where == Where.ENTER || constructor;
            switch (v.kind) {
                case SELF:
                    super.visitVarInsn(Opcodes.ALOAD, inPlace ? 0 : self);
                    break;
                case FIELD:
                    super.visitVarInsn(Opcodes.ALOAD, inPlace ? 0 : self);
                    super.visitFieldInsn(Opcodes.GETFIELD, owner, v.field, fieldType(v, scan));
                    break;
                case ARGUMENT: {
                    String t = argTypes.get(v.index);
                    super.visitVarInsn(load(t), inPlace ? argSlot(v.index) : argCopy[v.index]);
                    break;
                }
                default:
                    if (where == Where.THROW) {
                        if (Descriptors.primitive(returnType)) {
                            super.visitInsn(returnType.equals("J") ? Opcodes.LCONST_0 : Opcodes.ICONST_0);
                            if (returnType.equals("F")) {
                                super.visitInsn(Opcodes.I2F);
                            } else if (returnType.equals("D")) {
                                super.visitInsn(Opcodes.I2D);
                            }
                        } else {
                            super.visitInsn(Opcodes.ACONST_NULL);
                        }
                    } else {
                        super.visitVarInsn(load(returnType), ret);
                    }
            }
        }

        private void widen(String t) {
            switch (t) {
                case "J": return;
                case "F": super.visitInsn(Opcodes.F2L); return;
                case "D": super.visitInsn(Opcodes.D2L); return;
                default: super.visitInsn(Opcodes.I2L);
            }
        }

        private static int load(String t) {
            switch (t.charAt(0)) {
                case 'Z': case 'B': case 'C': case 'S': case 'I': return Opcodes.ILOAD;
                case 'J': return Opcodes.LLOAD;
                case 'F': return Opcodes.FLOAD;
                case 'D': return Opcodes.DLOAD;
                default: return Opcodes.ALOAD;
            }
        }

        private void exitCall(Where where) {
            pushHookNumber();
            if (token >= 0) {
                super.visitVarInsn(Opcodes.ALOAD, token);
            } else {
                super.visitInsn(Opcodes.ACONST_NULL);
            }
            push(hook.exit, 3, where);
            if (where == Where.THROW) {
                super.visitVarInsn(Opcodes.ALOAD, thrown);
            } else {
                super.visitInsn(Opcodes.ACONST_NULL);
            }
            super.visitMethodInsn(Opcodes.INVOKESTATIC, HOOKS, "exit", EXIT, false);
        }

        @Override
        public void visitInsn(int opcode) {
            begin();
            if (hook.exit != null && hook.atReturn && opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN) {
                if (ret >= 0) {
                    super.visitVarInsn(load(returnType) + (Opcodes.ISTORE - Opcodes.ILOAD), ret);
                }
                exitCall(Where.RETURN);
                if (ret >= 0) {
                    super.visitVarInsn(load(returnType), ret);
                }
            }
            super.visitInsn(opcode);
        }

        @Override
        public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
            begin();
            if (appended.isEmpty() || type != Opcodes.F_NEW) {
                super.visitFrame(type, numLocal, local, numStack, stack);
                return;
            }
            List<Object> locals = new ArrayList<>(base + appended.size());
            int slots = 0;
            for (int i = 0; i < numLocal; i++) {
                locals.add(local[i]);
                slots += local[i] == Opcodes.LONG || local[i] == Opcodes.DOUBLE ? 2 : 1;
            }
            for (; slots < base; slots++) {
                locals.add(Opcodes.TOP);
            }
            locals.addAll(appended);
            super.visitFrame(type, locals.size(), locals.toArray(), numStack, stack);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            if (hook.atThrow && begun) {
                super.visitLabel(tryEnd);
                super.visitLabel(handler);
                if (frames) {
                    List<Object> locals = new ArrayList<>();
                    for (int i = 0; i < base; i++) {
                        locals.add(Opcodes.TOP);
                    }
                    locals.addAll(appended);
                    super.visitFrame(Opcodes.F_NEW, locals.size(), locals.toArray(), 1, new Object[] {"java/lang/Throwable"});
                }
                super.visitVarInsn(Opcodes.ASTORE, thrown);
                exitCall(Where.THROW);
                super.visitVarInsn(Opcodes.ALOAD, thrown);
                super.visitInsn(Opcodes.ATHROW);
            }
            super.visitMaxs(maxStack + EXTRA_STACK, Math.max(maxLocals, base + size));
        }

        // every other instruction: the woven start comes first

        @Override
        public void visitLabel(Label label) {
            begin();
            super.visitLabel(label);
        }

        @Override
        public void visitIntInsn(int opcode, int operand) {
            begin();
            super.visitIntInsn(opcode, operand);
        }

        @Override
        public void visitVarInsn(int opcode, int varIndex) {
            begin();
            super.visitVarInsn(opcode, varIndex);
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            begin();
            super.visitTypeInsn(opcode, type);
        }

        @Override
        public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
            begin();
            super.visitFieldInsn(opcode, owner, name, descriptor);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            begin();
            super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
        }

        @Override
        public void visitInvokeDynamicInsn(String name, String descriptor, net.bytebuddy.jar.asm.Handle bootstrap,
                                           Object... arguments) {
            begin();
            super.visitInvokeDynamicInsn(name, descriptor, bootstrap, arguments);
        }

        @Override
        public void visitJumpInsn(int opcode, Label label) {
            begin();
            super.visitJumpInsn(opcode, label);
        }

        @Override
        public void visitLdcInsn(Object value) {
            begin();
            super.visitLdcInsn(value);
        }

        @Override
        public void visitIincInsn(int varIndex, int increment) {
            begin();
            super.visitIincInsn(varIndex, increment);
        }

        @Override
        public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
            begin();
            super.visitTableSwitchInsn(min, max, dflt, labels);
        }

        @Override
        public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
            begin();
            super.visitLookupSwitchInsn(dflt, keys, labels);
        }

        @Override
        public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
            begin();
            super.visitMultiANewArrayInsn(descriptor, numDimensions);
        }
    }
}
