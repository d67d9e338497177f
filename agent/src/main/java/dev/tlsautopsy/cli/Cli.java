package dev.tlsautopsy.cli;

import java.io.PrintStream;

/** {@code java -jar tls-autopsy-agent.jar COMMAND}. Exit status: 0 done, 2 usage error, 1 failure. */
public final class Cli {

    static final String USAGE = String.join("\n",
            "usage: java -jar tls-autopsy-agent.jar COMMAND",
            "  list                     the JVMs this user can attach to",
            "  attach PID [OPTIONS]     load the agent into a running JVM",
            "  summarize FILE... [--json | --html REPORT.html]",
            "                           merge .jfr recordings and JSON summaries: a table, one summary, or a page",
            "  watch PID                a live table of endings in a running JVM",
            "  --help                   this text",
            "As an agent: -javaagent:tls-autopsy-agent.jar[=summary=PATH,interval=60,log=off|unclean|all,",
            "  recording=PATH.jfr,instrument=jsse,engine,netty,redact=false,maxPeers=100,recent=100]");

    private Cli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("tls-autopsy: no command given; try --help");
            return 2;
        }
        switch (args[0]) {
            case "--help":
            case "-h":
            case "help":
                out.println(USAGE);
                return 0;
            case "list":
                return ListJvms.run(out);
            case "attach":
                return Attach.run(args, out, err);
            case "summarize":
                return Summarize.run(args, out, err, dev.tlsautopsy.Agent.version());
            case "watch":
                return Watch.run(args, out, err);
            default:
                err.println("tls-autopsy: unknown command '" + args[0] + "'; try --help");
                return 2;
        }
    }
}
