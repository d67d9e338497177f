package dev.tlsautopsy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OptionsTest {

    @Test
    void defaults() throws Exception {
        Options o = Options.parse(null, new Properties());
        assertNull(o.summary);
        assertEquals(60, o.interval);
        assertEquals("off", o.log);
        assertNull(o.recording);
        assertEquals(Set.of("jsse", "engine", "netty"), o.instrument);
        assertEquals(false, o.redact);
        assertEquals(100, o.maxPeers);
        assertEquals(100, o.recent);
    }

    @Test
    void agentArgumentWinsOverSystemProperty() throws Exception {
        Properties p = new Properties();
        p.setProperty("tlsautopsy.interval", "5");
        p.setProperty("tlsautopsy.log", "all");
        Options o = Options.parse("interval=7,summary=/tmp/s.json", p);
        assertEquals(7, o.interval);
        assertEquals("all", o.log);
        assertEquals("/tmp/s.json", o.summary);
    }

    @Test
    void instrumentKeepsItsOwnCommas() throws Exception {
        Options o = Options.parse("instrument=jsse,engine,log=unclean", new Properties());
        assertEquals(List.of("jsse", "engine"), List.copyOf(o.instrument));
        assertEquals("unclean", o.log);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "interval=-1|bad option interval=-1: expected a whole number of seconds",
        "interval=soon|bad option interval=soon",
        "log=loud|bad option log=loud: expected one of off, unclean, all",
        "redact=yes|bad option redact=yes: expected one of true, false",
        "maxPeers=many|bad option maxPeers=many: expected a whole number >= 0",
        "recent=-3|bad option recent=-3",
        "recording=out.txt|bad option recording=out.txt: expected a path ending in .jfr",
        "instrument=jsse,quic|bad option instrument=jsse,quic: expected hook groups",
        "colour=blue|unknown option 'colour'; accepted: summary, interval, log, recording, instrument, redact, maxPeers, recent",
        "summary|option 'summary' needs a value",
        "summary=|bad option summary=: expected a file path or off",
    })
    void badValuesNameTheKeyAndWhatIsAccepted(String args, String message) {
        Options.Invalid e = assertThrows(Options.Invalid.class, () -> Options.parse(args, new Properties()));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void badSystemPropertyIsRejectedToo() {
        Properties p = new Properties();
        p.setProperty("tlsautopsy.log", "verbose");
        assertThrows(Options.Invalid.class, () -> Options.parse("", p));
    }
}
