package dev.tlsautopsy.cli;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import dev.tlsautopsy.Agent;
import dev.tlsautopsy.Options;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Properties;

/** {@code attach PID [OPTIONS]}: loads this jar as an agent into a running JVM. */
final class Attach {

    private Attach() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2 || args.length > 3 || !args[1].matches("\\d+")) {
            err.println("tls-autopsy: usage: attach PID [key=value,...]");
            return 2;
        }
        String pid = args[1];
        String options = args.length == 3 ? args[2] : "";
        try {
            Options.parse(options, new Properties());
        } catch (Options.Invalid e) {
            err.println("tls-autopsy: " + e.getMessage() + "; nothing attached");
            return 2;
        }
        Path jar;
        try {
            jar = Paths.get(Attach.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
            err.println("tls-autopsy: cannot locate the agent jar: " + e);
            return 1;
        }
        VirtualMachine vm;
        try {
            vm = VirtualMachine.attach(pid);
        } catch (AttachNotSupportedException | IOException e) {
            err.println("tls-autopsy: cannot attach to " + pid + ": " + e.getMessage());
            return 1;
        }
        try {
            String already = vm.getSystemProperties().getProperty(Agent.ACTIVE_PROPERTY);
            if (already != null) {
                out.println("tls-autopsy is already active in " + pid + "; nothing changed (" + already + ")");
                return 0;
            }
            vm.loadAgent(jar.toString(), options);
            String line = vm.getSystemProperties().getProperty(Agent.ACTIVE_PROPERTY);
            if (line == null) {
                err.println("tls-autopsy: the agent did not start in " + pid + "; see that JVM's stderr");
                return 1;
            }
            out.println("attached to " + pid + ": " + line);
            return 0;
        } catch (AgentLoadException | AgentInitializationException | IOException e) {
            err.println("tls-autopsy: loading the agent into " + pid + " failed: " + e.getMessage());
            return 1;
        } finally {
            try {
                vm.detach();
            } catch (IOException ignored) {
                // detached anyway when this process exits
            }
        }
    }
}
