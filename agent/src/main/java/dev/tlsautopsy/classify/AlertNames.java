package dev.tlsautopsy.classify;

import java.util.Locale;

/** TLS alert descriptions in RFC 8446 (and RFC 5246/6066/8446) spelling. */
public final class AlertNames {

    public static final int LEVEL_WARNING = 1, LEVEL_FATAL = 2;
    public static final int CLOSE_NOTIFY = 0, BAD_RECORD_MAC = 20, USER_CANCELED = 90;

    private static final String[] NAMES = new String[256];

    static {
        put(0, "close_notify");
        put(10, "unexpected_message");
        put(20, "bad_record_mac");
        put(21, "decryption_failed");
        put(22, "record_overflow");
        put(30, "decompression_failure");
        put(40, "handshake_failure");
        put(41, "no_certificate");
        put(42, "bad_certificate");
        put(43, "unsupported_certificate");
        put(44, "certificate_revoked");
        put(45, "certificate_expired");
        put(46, "certificate_unknown");
        put(47, "illegal_parameter");
        put(48, "unknown_ca");
        put(49, "access_denied");
        put(50, "decode_error");
        put(51, "decrypt_error");
        put(60, "export_restriction");
        put(70, "protocol_version");
        put(71, "insufficient_security");
        put(80, "internal_error");
        put(86, "inappropriate_fallback");
        put(90, "user_canceled");
        put(100, "no_renegotiation");
        put(109, "missing_extension");
        put(110, "unsupported_extension");
        put(111, "certificate_unobtainable");
        put(112, "unrecognized_name");
        put(113, "bad_certificate_status_response");
        put(114, "bad_certificate_hash_value");
        put(115, "unknown_psk_identity");
        put(116, "certificate_required");
        put(120, "no_application_protocol");
    }

    private AlertNames() {
    }

    private static void put(int id, String name) {
        NAMES[id] = name;
    }

    /** The RFC name of an alert description byte, or {@code alert_N} for an unassigned one. */
    public static String of(int description) {
        int id = description & 0xFF;
        String name = NAMES[id];
        return name != null ? name : "alert_" + id;
    }

    /** The RFC name of a JDK {@code sun.security.ssl.Alert} constant, read from its enum name. */
    public static String ofEnumName(String enumName) {
        String lower = enumName.toLowerCase(Locale.ROOT);
        switch (lower) {
            case "cert_unobtainable": return "certificate_unobtainable";
            case "bad_cert_status_response": return "bad_certificate_status_response";
            case "bad_cert_hash_value": return "bad_certificate_hash_value";
            default: return lower;
        }
    }
}
