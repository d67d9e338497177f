package dev.tlsautopsy.stack.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import dev.tlsautopsy.classify.Verdict;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;

/** What other providers' engine exceptions mean, with their real exception classes where they have them. */
class ProviderErrorsTest {

    @Test
    void openSslEngineErrors() {
        assertEquals(new Verdict(Outcome.BAD_RECORD_MAC, Initiator.LOCAL, "bad_record_mac", "SENT"),
                ProviderErrors.classify(new SSLException("error:1e000065:Cipher functions:OPENSSL_internal:BAD_DECRYPT")));
        assertEquals(new Verdict(Outcome.BAD_RECORD_MAC, Initiator.LOCAL, "bad_record_mac", "SENT"),
                ProviderErrors.classify(new SSLException("error:...:DECRYPTION_FAILED_OR_BAD_RECORD_MAC")));
        assertEquals(new Verdict(Outcome.BAD_RECORD_MAC, Initiator.PEER, "bad_record_mac", "RECEIVED"),
                ProviderErrors.classify(new SSLException("error:100003fc:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_RECORD_MAC")));
        assertEquals(new Verdict(Outcome.FATAL_ALERT, Initiator.PEER, "bad_certificate", "RECEIVED"),
                ProviderErrors.classify(new SSLException("error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE")));
        assertEquals(new Verdict(Outcome.FATAL_ALERT, Initiator.PEER, "unknown_ca", "RECEIVED"),
                ProviderErrors.classify(new SSLException("x:TLSV1_ALERT_UNKNOWN_CA")));
        assertEquals(Verdict.of(Outcome.FATAL_ALERT, Initiator.LOCAL),
                ProviderErrors.classify(new SSLException("General OpenSslEngine problem",
                        new java.security.cert.CertificateException("untrusted"))));
        assertNull(ProviderErrors.classify(new SSLException("something else")));
    }

    @Test
    void bouncyCastleEngineErrorsByType() {
        short badRecordMac = org.bouncycastle.tls.AlertDescription.bad_record_mac;
        assertEquals(new Verdict(Outcome.BAD_RECORD_MAC, Initiator.LOCAL, "bad_record_mac", "SENT"),
                ProviderErrors.classify(new SSLException(new org.bouncycastle.tls.TlsFatalAlert(badRecordMac))));
        assertEquals(new Verdict(Outcome.BAD_RECORD_MAC, Initiator.PEER, "bad_record_mac", "RECEIVED"),
                ProviderErrors.classify(new SSLException(new org.bouncycastle.tls.TlsFatalAlertReceived(badRecordMac))));
        assertEquals(new Verdict(Outcome.FATAL_ALERT, Initiator.PEER, "certificate_unknown", "RECEIVED"),
                ProviderErrors.classify(new SSLException(new org.bouncycastle.tls.TlsFatalAlertReceived(
                        org.bouncycastle.tls.AlertDescription.certificate_unknown))));
        assertEquals(new Verdict(Outcome.FATAL_ALERT, Initiator.LOCAL, "handshake_failure", "SENT"),
                ProviderErrors.classify(new SSLException("wrapped", new SSLException(
                        new org.bouncycastle.tls.TlsFatalAlert(org.bouncycastle.tls.AlertDescription.handshake_failure)))));
        // the message alone is not trusted: a text that merely looks like BouncyCastle's decides nothing
        assertNull(ProviderErrors.classify(new SSLException("org.bouncycastle.tls.TlsFatalAlert: bad_record_mac(20)")));
    }
}
