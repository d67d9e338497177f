package dev.tlsautopsy.output;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * One per TLS connection ending. Begun when the connection's handshake starts (when the event is
 * enabled then), so the event's own start time and duration span the connection.
 */
@Name("dev.tlsautopsy.ConnectionEnd")
@Label("TLS Connection End")
@Category("TLS Autopsy")
@Description("How a TLS connection ended: who ended it, how, and whether data may have been lost")
@StackTrace(true)
public class ConnectionEndEvent extends jdk.jfr.Event {
    @Label("Connection Id") @Description("Unique within the JVM")
    public long connectionId;
    @Label("Outcome") @Description("CLEAN, TRUNCATED, SHORT_READ, BAD_RECORD_MAC, RESET, FATAL_ALERT, LOCAL_ABORT, TIMEOUT, ABANDONED or ERROR")
    public String outcome;
    @Label("Initiator") @Description("The side that produced the decisive event: LOCAL, PEER or UNKNOWN")
    public String initiator;
    @Label("Handshake Completed")
    public boolean handshakeCompleted;
    @Label("Close Notify Sent") @Description("A close_notify alert was written")
    public boolean closeNotifySent;
    @Label("Close Notify Received") @Description("A real close_notify alert was read")
    public boolean closeNotifyReceived;
    @Label("Alert") @Description("TLS alert description, RFC 8446 spelling")
    public String alert;
    @Label("Alert Direction") @Description("SENT or RECEIVED")
    public String alertDirection;
    @Label("Application Saw") @Description("EOF, EXCEPTION or NOTHING")
    public String appSaw;
    @Label("Exception") @Description("The first exception the application saw for this ending")
    public String exception;
    @Label("API") @Description("SSLSocket, SSLEngine or Netty")
    public String api;
    @Label("Implementation") @Description("The concrete class")
    public String implementation;
    @Label("Role") @Description("CLIENT or SERVER")
    public String role;
    @Label("Peer Host")
    public String peerHost;
    @Label("Peer Port")
    public int peerPort;
    @Label("Local Port")
    public int localPort;
    @Label("Protocol")
    public String protocol;
    @Label("Cipher Suite")
    public String cipherSuite;
    @Label("Bytes In") @Description("Application bytes delivered") @DataAmount
    public long bytesIn;
    @Label("Bytes Out") @Description("Application bytes accepted") @DataAmount
    public long bytesOut;
    @Label("Duration") @Description("From the start of the handshake to the ending") @Timespan(Timespan.MILLISECONDS)
    public long durationMillis;
    @Label("Idle") @Description("How long no application data had moved when the decisive event came; -1: unknown, the handshake never completed")
    @Timespan(Timespan.MILLISECONDS)
    public long idleMillis;
    @Label("Noticed After") @Description("How long after the decisive event the application first saw it; -1: never before the record")
    @Timespan(Timespan.MILLISECONDS)
    public long noticedAfterMillis;
}
