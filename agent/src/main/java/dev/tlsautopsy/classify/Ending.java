package dev.tlsautopsy.classify;

import java.util.LinkedHashMap;
import java.util.Map;

/** The ending record of one connection (SPEC section 4). Field names are the contract. */
public record Ending(
        long connectionId,
        Outcome outcome,
        Initiator initiator,
        boolean handshakeCompleted,
        boolean closeNotifySent,
        boolean closeNotifyReceived,
        String alert,
        String alertDirection,
        String appSaw,
        String exception,
        String api,
        String implementation,
        String role,
        String peerHost,
        int peerPort,
        int localPort,
        String protocol,
        String cipherSuite,
        long bytesIn,
        long bytesOut,
        long durationMillis,
        long idleMillis,
        long noticedAfterMillis) {

    public static final String SAW_EOF = "EOF", SAW_EXCEPTION = "EXCEPTION", SAW_NOTHING = "NOTHING";

    /** Every field, in contract order, with the contract's names. */
    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("connectionId", connectionId);
        m.put("outcome", outcome.name());
        m.put("initiator", initiator.name());
        m.put("handshakeCompleted", handshakeCompleted);
        m.put("closeNotifySent", closeNotifySent);
        m.put("closeNotifyReceived", closeNotifyReceived);
        m.put("alert", alert);
        m.put("alertDirection", alertDirection);
        m.put("appSaw", appSaw);
        m.put("exception", exception);
        m.put("api", api);
        m.put("implementation", implementation);
        m.put("role", role);
        m.put("peerHost", peerHost);
        m.put("peerPort", peerPort);
        m.put("localPort", localPort);
        m.put("protocol", protocol);
        m.put("cipherSuite", cipherSuite);
        m.put("bytesIn", bytesIn);
        m.put("bytesOut", bytesOut);
        m.put("durationMillis", durationMillis);
        m.put("idleMillis", idleMillis);
        m.put("noticedAfterMillis", noticedAfterMillis);
        return m;
    }

    /** The peer as the summary's {@code byPeer} keys it: {@code host:port} for clients, {@code host} for servers. */
    public String peerKey() {
        String host = peerHost.isEmpty() ? "unknown" : peerHost;
        return "CLIENT".equals(role) && peerPort >= 0 ? host + ":" + peerPort : host;
    }
}
