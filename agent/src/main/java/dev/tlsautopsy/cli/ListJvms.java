package dev.tlsautopsy.cli;

import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import java.io.PrintStream;

/** {@code list}: the JVMs this user can attach to. */
final class ListJvms {

    private ListJvms() {
    }

    static int run(PrintStream out) {
        long self = ProcessHandle.current().pid();
        out.printf("%-8s %s%n", "PID", "MAIN CLASS");
        for (VirtualMachineDescriptor d : VirtualMachine.list()) {
            if (d.id().equals(Long.toString(self))) {
                continue;
            }
            String name = d.displayName().isEmpty() ? "(unknown)" : d.displayName().split(" ")[0];
            out.printf("%-8s %s%n", d.id(), name);
        }
        return 0;
    }
}
