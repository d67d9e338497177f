package dev.tlsautopsy.stack.provider;

import static dev.tlsautopsy.instrument.Value.arg;
import static dev.tlsautopsy.instrument.Value.field;
import static dev.tlsautopsy.instrument.Value.returned;
import static dev.tlsautopsy.instrument.Value.self;

import dev.tlsautopsy.instrument.HookSet;
import dev.tlsautopsy.instrument.HookSet.TypeHooks;
import dev.tlsautopsy.instrument.Stack;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Owner;
import dev.tlsautopsy.track.Tracker;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import javax.net.ssl.SSLSocket;

/**
 * SSLSockets of other providers ({@code api=SSLSocket}, one record per socket), part of the {@code engine}
 * group:
 * <ul>
 * <li>BouncyCastle's JSSE ({@code ProvSSLSocketDirect}, {@code ProvSSLSocketWrap}) runs its TLS protocol
 * over the socket's streams, with no engine. Its TLS peer ({@code ProvTlsClient}, {@code ProvTlsServer})
 * is told of every alert raised and received and of the handshake's start and end; the application's
 * streams ({@code $AppDataInput}, {@code $AppDataOutput}) show what it saw, including
 * {@code TlsNoCloseNotifyException} on a truncation.</li>
 * <li>Conscrypt's {@code ConscryptEngineSocket} drives a {@code ConscryptEngine}: the engine's own hooks
 * feed the socket's record from its {@code doHandshake()} on; its input stream's -1 without close_notify
 * is the truncation the engine never reports ({@code closeInbound()} does not throw).</li>
 * </ul>
 * Checked with bctls 1.84 and conscrypt-openjdk-uber 2.9.0. Sockets of other providers (wolfJSSE's
 * {@code WolfSSLSocket}) are not hooked.
 */
public final class ProviderSocketStack implements Stack, Owner {

    static final int HANDSHAKE_BEGINNING = 0, HANDSHAKE_COMPLETE = 1, ALERT_RAISED = 2, ALERT_RECEIVED = 3,
            CLOSE = 4, READ = 5, WRITE = 6, CONSCRYPT_HANDSHAKE = 7;

    private static final String BC = "org.bouncycastle.jsse.provider.";
    private static final String CONSCRYPT = "org.conscrypt.ConscryptEngineSocket";

    private ProviderSocketReading reading;

    @Override
    public String group() {
        return "engine";
    }

    @Override
    public void bind(Tracker tracker) {
        reading = new ProviderSocketReading(tracker, this);
    }

    @Override
    public void declare(HookSet hooks) {
        for (String peer : new String[] {"ProvTlsClient", "ProvTlsServer"}) {
            TypeHooks p = hooks.type(BC + peer);
            p.method(HANDSHAKE_BEGINNING, "notifyHandshakeBeginning", "()V").enter(field("manager"));
            p.method(HANDSHAKE_COMPLETE, "notifyHandshakeComplete", "()V").exitOnReturn(field("manager"));
            p.method(ALERT_RAISED, "notifyAlertRaised", "(SSLjava/lang/String;Ljava/lang/Throwable;)V")
                    .enter(field("manager"), arg(3), arg(0), arg(1));
            p.method(ALERT_RECEIVED, "notifyAlertReceived", "(SS)V").enter(field("manager"), arg(0), arg(1));
        }
        for (String socket : new String[] {"ProvSSLSocketDirect", "ProvSSLSocketWrap"}) {
            hooks.type(BC + socket).method(CLOSE, "close", "()V").enter(self()).exit(self());
            TypeHooks in = hooks.type(BC + socket + "$AppDataInput");
            in.method(READ, "read", "()I").enter(field("this$0")).exit(field("this$0"), returned());
            in.method(READ, "read", "([BII)I").enter(field("this$0")).exit(field("this$0"), returned());
            TypeHooks out = hooks.type(BC + socket + "$AppDataOutput");
            out.method(WRITE, "write", "(I)V").enter(field("this$0")).exit(field("this$0"));
            out.method(WRITE, "write", "([BII)V").enter(field("this$0"), arg(2)).exit(field("this$0"), arg(2));
        }
        TypeHooks conscrypt = hooks.type(CONSCRYPT);
        conscrypt.method(CONSCRYPT_HANDSHAKE, "doHandshake", "()V").enter(self(), field("engine"));
        conscrypt.method(CLOSE, "close", "()V").enter(self()).exit(self());
        // read() and read(byte[]) call read(byte[], int, int); write(int) calls write(byte[], int, int)
        hooks.type(CONSCRYPT + "$SSLInputStream").method(READ, "read", "([BII)I")
                .enter(field("this$0")).exit(field("this$0"), returned());
        hooks.type(CONSCRYPT + "$SSLOutputStream").method(WRITE, "write", "([BII)V")
                .enter(field("this$0"), arg(2)).exit(field("this$0"), arg(2));
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        switch (hook) {
            case HANDSHAKE_BEGINNING: reading.handshakeBeginning(a); return null;
            case ALERT_RAISED: reading.alert(a, true, (int) n, (int) m, b); return null;
            case ALERT_RECEIVED: reading.alert(a, false, (int) n, (int) m, null); return null;
            case CONSCRYPT_HANDSHAKE: reading.conscryptHandshake(a, b); return null;
            case CLOSE: return reading.closeEnter(a);
            case READ:
            case WRITE:
                return reading.callEnter(a);
            default: return null;
        }
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        switch (hook) {
            case HANDSHAKE_COMPLETE: reading.handshakeComplete(a); return;
            case CLOSE: reading.closeExit((Evidence) token, thrown); return;
            case READ: reading.readExit((Evidence) token, n, thrown); return;
            case WRITE: reading.writeExit((Evidence) token, n, thrown); return;
            default:
        }
    }

    @Override
    public void describe(Evidence ev, Object transport) {
        if (!(transport instanceof SSLSocket)) {
            return;
        }
        SSLSocket s = (SSLSocket) transport;
        if (ev.role.isEmpty()) {
            ev.role = s.getUseClientMode() ? "CLIENT" : "SERVER";
        }
        SocketAddress remote = s.getRemoteSocketAddress();
        if (remote instanceof InetSocketAddress) {
            ev.peerHost = ((InetSocketAddress) remote).getHostString();
            ev.peerPort = ((InetSocketAddress) remote).getPort();
        }
        ev.localPort = s.getLocalPort();
    }
}
