package dev.tlsautopsy;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The agent's options (SPEC section 6): {@code key=value,key=value} from the agent argument, else
 * the system property {@code tlsautopsy.<key>}, else the default.
 */
public final class Options {

    /** A bad key or value, with a message that names it and what is accepted. */
    public static final class Invalid extends Exception {
        public Invalid(String message) {
            super(message);
        }
    }

    public static final List<String> KEYS =
            List.of("summary", "interval", "log", "recording", "instrument", "redact", "maxPeers", "recent");
    public static final List<String> HOOK_GROUPS = List.of("jsse", "engine", "netty");

    public final String summary;          // null: the default path; "off": none
    public final int interval;
    public final String log;
    public final String recording;        // null: none
    public final Set<String> instrument;
    public final boolean redact;
    public final int maxPeers;
    public final int recent;

    private Options(Map<String, String> v) throws Invalid {
        summary = v.get("summary");
        interval = whole(v, "interval", 60, "a whole number of seconds, 0 to write only at exit");
        log = oneOf(v, "log", "off", List.of("off", "unclean", "all"));
        String rec = v.get("recording");
        if (rec != null && (rec.isEmpty() || !rec.endsWith(".jfr"))) {
            throw new Invalid("bad option recording=" + rec + ": expected a path ending in .jfr");
        }
        recording = rec;
        instrument = groups(v.getOrDefault("instrument", String.join(",", HOOK_GROUPS)));
        redact = Boolean.parseBoolean(oneOf(v, "redact", "false", List.of("true", "false")));
        maxPeers = whole(v, "maxPeers", 100, "a whole number >= 0");
        recent = whole(v, "recent", 100, "a whole number >= 0");
        if (summary != null && summary.isEmpty()) {
            throw new Invalid("bad option summary=: expected a file path or off");
        }
    }

    /** Where the summary goes: the {@code summary} option's path, by default one in the working directory; null when off. */
    public java.nio.file.Path summaryPath() {
        if ("off".equals(summary)) {
            return null;
        }
        if (summary != null) {
            return java.nio.file.Paths.get(summary).toAbsolutePath();
        }
        String name = "tls-autopsy-" + pid() + ".json";
        java.nio.file.Path cwd = java.nio.file.Paths.get("").toAbsolutePath();
        return java.nio.file.Files.isWritable(cwd) ? cwd.resolve(name) : java.nio.file.Paths.get(System.getProperty("java.io.tmpdir"), name);
    }

    /**
     * This JVM's process id; on Linux read from {@code /proc/self} ({@code ProcessHandle} starts a thread
     * pool's worth of classes, which would cost premain time).
     */
    static long pid() {
        try {
            java.io.File self = new java.io.File("/proc/self").getCanonicalFile();
            return Long.parseLong(self.getName());
        } catch (java.io.IOException | RuntimeException notLinux) {
            return ProcessHandle.current().pid();
        }
    }

    public static Options defaults() {
        try {
            return new Options(Map.of());
        } catch (Invalid e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses the agent argument, falling back to {@code tlsautopsy.*} system properties. */
    public static Options parse(String agentArgs, Properties system) throws Invalid {
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : KEYS) {
            String p = system.getProperty("tlsautopsy." + key);
            if (p != null) {
                values.put(key, p.trim());
            }
        }
        if (agentArgs != null && !agentArgs.isBlank()) {
            String last = null;
            for (String part : agentArgs.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                if (eq < 0 && "instrument".equals(last)) {
                    // instrument=jsse,engine: the value's own commas (checked with the whole value below)
                    values.put(last, values.get(last) + "," + part.trim());
                    continue;
                }
                String key = (eq < 0 ? part : part.substring(0, eq)).trim();
                last = key;
                if (!KEYS.contains(key)) {
                    throw new Invalid("unknown option '" + key + "'; accepted: " + String.join(", ", KEYS));
                }
                if (eq < 0) {
                    throw new Invalid("option '" + key + "' needs a value: " + key + "=...");
                }
                values.put(key, part.substring(eq + 1).trim());
            }
        }
        return new Options(values);
    }

    private static int whole(Map<String, String> v, String key, int dflt, String accepted) throws Invalid {
        String s = v.get(key);
        if (s == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(s);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new Invalid("bad option " + key + "=" + s + ": expected " + accepted);
    }

    private static String oneOf(Map<String, String> v, String key, String dflt, List<String> accepted) throws Invalid {
        String s = v.get(key);
        if (s == null) {
            return dflt;
        }
        if (!accepted.contains(s)) {
            throw new Invalid("bad option " + key + "=" + s + ": expected one of " + String.join(", ", accepted));
        }
        return s;
    }

    private static Set<String> groups(String s) throws Invalid {
        Set<String> out = new LinkedHashSet<>();
        for (String g : s.replace('+', ',').replace(';', ',').replace(':', ',').split(",")) {
            String t = g.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (!HOOK_GROUPS.contains(t)) {
                throw new Invalid("bad option instrument=" + s + ": expected hook groups joined by ',' from "
                        + String.join(", ", HOOK_GROUPS));
            }
            out.add(t);
        }
        return out;
    }

    @Override
    public String toString() {
        return "summary=" + summary + " interval=" + interval + " log=" + log + " recording=" + recording
                + " instrument=" + instrument + " redact=" + redact + " maxPeers=" + maxPeers + " recent=" + recent;
    }
}
