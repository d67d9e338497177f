package dev.tlsautopsy.output;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/** Running counts of endings per outcome, emitted periodically. */
@Name("dev.tlsautopsy.EndingStatistics")
@Label("TLS Ending Statistics")
@Category("TLS Autopsy")
@Description("Running counts of TLS connection endings per outcome")
@StackTrace(false)
@Period("10 s")
public class EndingStatisticsEvent extends jdk.jfr.Event {
    @Label("Connections") @Description("Finished connections")
    public long connections;
    @Label("Open") @Description("Connections started and not yet ended")
    public long open;
    @Label("CLEAN") public long clean;
    @Label("TRUNCATED") public long truncated;
    @Label("SHORT_READ") public long shortRead;
    @Label("BAD_RECORD_MAC") public long badRecordMac;
    @Label("RESET") public long reset;
    @Label("FATAL_ALERT") public long fatalAlert;
    @Label("LOCAL_ABORT") public long localAbort;
    @Label("TIMEOUT") public long timeout;
    @Label("ABANDONED") public long abandoned;
    @Label("ERROR") public long error;
}
