package dev.tlsautopsy.stack.engine;

import dev.tlsautopsy.classify.AlertNames;
import dev.tlsautopsy.classify.Classifier;
import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import dev.tlsautopsy.classify.Verdict;
import java.security.cert.CertificateException;
import java.util.Locale;

/**
 * What an exception from an SSLEngine that is not the JDK's means, where its type says too little.
 * Checked with Netty's BoringSSL engine (netty-tcnative 2.0.84): an alert received is named in the
 * message as {@code SSLV3_ALERT_<NAME>} / {@code TLSV1_ALERT_<NAME>} / {@code TLSV13_ALERT_<NAME>}; a
 * record failing its check as {@code DECRYPTION_FAILED_OR_BAD_RECORD_MAC} or, for AEAD suites, the
 * cipher layer's {@code Cipher functions:OPENSSL_internal:BAD_DECRYPT} (BoringSSL then sends
 * bad_record_mac); a peer certificate this side rejected has a {@link CertificateException} in its
 * cause chain (BoringSSL then sends bad_certificate).
 *
 * <p>BouncyCastle's JSSE engine (bctls 1.84) says it by type: the cause of its {@code SSLException} is
 * an {@code org.bouncycastle.tls.TlsFatalAlert} for an alert it raised and queued for the peer, or a
 * {@code TlsFatalAlertReceived} for one that arrived; both carry the alert code in
 * {@code getAlertDescription()}.
 */
final class ProviderErrors {

    private ProviderErrors() {
    }

    static Verdict classify(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Verdict bc = bouncyCastle(t);
            if (bc != null) {
                return bc;
            }
            if (t instanceof CertificateException) {
                // which alert goes out depends on the provider's version (Netty 4.2: bad_certificate,
                // 4.1: internal_error) and is not in the exception: name none rather than guess
                return Verdict.of(Outcome.FATAL_ALERT, Initiator.LOCAL);
            }
            String m = t.getMessage();
            if (m == null) {
                continue;
            }
            String upper = m.toUpperCase(Locale.ROOT);
            if (upper.contains("DECRYPTION_FAILED_OR_BAD_RECORD_MAC") || upper.contains(":BAD_DECRYPT")) {
                return new Verdict(Outcome.BAD_RECORD_MAC, Initiator.LOCAL, "bad_record_mac", Verdict.SENT);
            }
            for (String prefix : new String[] {"TLSV13_ALERT_", "TLSV1_ALERT_", "SSLV3_ALERT_"}) {
                int i = upper.indexOf(prefix);
                if (i >= 0) {
                    String name = alertName(upper.substring(i + prefix.length()));
                    Outcome o = name.equals("bad_record_mac") || name.equals("decryption_failed")
                            ? Outcome.BAD_RECORD_MAC : Outcome.FATAL_ALERT;
                    return new Verdict(o, Initiator.PEER, name, Verdict.RECEIVED);
                }
            }
        }
        return null;
    }

    private static Verdict bouncyCastle(Throwable t) {
        for (Class<?> c = t.getClass(); c != null && c != Throwable.class; c = c.getSuperclass()) {
            boolean raised = c.getName().equals("org.bouncycastle.tls.TlsFatalAlert");
            if (raised || c.getName().equals("org.bouncycastle.tls.TlsFatalAlertReceived")) {
                int code;
                try {
                    code = ((Number) c.getMethod("getAlertDescription").invoke(t)).intValue();
                } catch (ReflectiveOperationException | RuntimeException e) {
                    return null;
                }
                return raised ? Classifier.alertSent(AlertNames.LEVEL_FATAL, code)
                        : Classifier.alertReceived(AlertNames.LEVEL_FATAL, code);
            }
        }
        return null;
    }

    private static String alertName(String rest) {
        int end = 0;
        while (end < rest.length() && (Character.isLetterOrDigit(rest.charAt(end)) || rest.charAt(end) == '_')) {
            end++;
        }
        return rest.substring(0, end).toLowerCase(Locale.ROOT);
    }
}
