package dev.tlsautopsy.stack.netty;

import static dev.tlsautopsy.instrument.Value.arg;
import static dev.tlsautopsy.instrument.Value.field;
import static dev.tlsautopsy.instrument.Value.self;

import dev.tlsautopsy.classify.Initiator;
import dev.tlsautopsy.classify.Outcome;
import dev.tlsautopsy.classify.Verdict;
import dev.tlsautopsy.instrument.HookSet;
import dev.tlsautopsy.instrument.HookSet.TypeHooks;
import dev.tlsautopsy.instrument.Stack;
import dev.tlsautopsy.track.Evidence;
import dev.tlsautopsy.track.Owner;
import dev.tlsautopsy.track.Tracker;
import javax.net.ssl.SSLEngine;

/**
 * Netty's {@code SslHandler} and the channel below it, matched by name (the agent never loads Netty), also
 * when relocated under another package. One record per channel ({@code api=Netty}): the engine's own
 * hooks feed the handler's evidence. Checked on Netty 4.1.130 and 4.2.20: every constructor sets the final
 * field {@code engine}; {@code handlerAdded(ctx)}, {@code close(ctx, promise)}, the private
 * {@code closeOutbound0(promise)}, {@code channelInactive(ctx)}, {@code exceptionCaught(ctx, cause)}, the
 * private five-argument {@code setHandshakeFailure} (handshake timeouts land here) and
 * {@code handlerRemoved0(ctx)} have the same shapes in both lines.
 */
public final class NettyStack implements Stack, Owner {

    static final int HANDLER_CREATED = 0, HANDLER_ADDED = 1, CLOSING = 2, INACTIVE = 3, EXCEPTION = 4,
            HANDSHAKE_FAILURE = 5, REMOVED = 6, CHANNEL_CLOSING = 7, CHANNEL_PEER_EOF = 8,
            CONTEXT_HANDSHAKE_FAILURE = 9, CHANNEL_WRITE_FAILURE = 10;

    private NettyReading reading;

    @Override
    public void bind(Tracker tracker) {
        this.reading = new NettyReading(tracker, this);
    }

    @Override
    public String group() {
        return "netty";
    }

    @Override
    public String[] libraryClasses() {
        // what a Netty TLS server or client loads (netty-handler's engines included, whichever provider it
        // picks), under Netty's own package; relocated copies are woven as they load
        return new String[] {"io.netty.handler.ssl.SslHandler", "io.netty.handler.ssl.SslUtils",
            "io.netty.handler.ssl.JdkSslEngine", "io.netty.handler.ssl.ReferenceCountedOpenSslEngine",
            "io.netty.handler.ssl.ConscryptAlpnSslEngine", "io.netty.channel.AbstractChannel$AbstractUnsafe",
            "io.netty.channel.nio.AbstractNioByteChannel$NioByteUnsafe",
            "io.netty.channel.epoll.AbstractEpollChannel$AbstractEpollUnsafe",
            "io.netty.channel.uring.AbstractIoUringChannel$AbstractUringUnsafe"};
    }

    @Override
    public void declare(HookSet hooks) {
        TypeHooks handler = hooks.netty("io.netty.handler.ssl.SslHandler");
        handler.constructors(HANDLER_CREATED).exitOnReturn(self(), field("engine"));
        handler.method(HANDLER_ADDED, "handlerAdded", 1).exitOnReturn(self(), arg(0));
        handler.method(CLOSING, "close", 2).enter(self());
        handler.method(CLOSING, "closeOutbound0", 1).enter(self());
        handler.method(INACTIVE, "channelInactive", 1).enter(self());
        handler.method(EXCEPTION, "exceptionCaught", 2).enter(self(), arg(1));
        handler.method(HANDSHAKE_FAILURE, "setHandshakeFailure", 5).enter(self(), arg(1));
        handler.method(REMOVED, "handlerRemoved0", 1).enter(self());
        // SslUtils.handleHandshakeFailure(ctx, cause, notify): where SslHandler's handshake timeout ends up
        hooks.netty("io.netty.handler.ssl.SslUtils").method(CONTEXT_HANDSHAKE_FAILURE, "handleHandshakeFailure", 3)
                .enter(arg(0), arg(1));
        // the channel: a local close goes through AbstractUnsafe.close(promise); the NIO read loop calls
        // NioByteUnsafe.closeOnRead(pipeline) on the peer's EOF
        hooks.netty("io.netty.channel.AbstractChannel$AbstractUnsafe").method(CHANNEL_CLOSING, "close", 1)
                .enter(field("this$0"));
        // a write the transport refused (a reset, a broken pipe): Netty fails the write's promise and closes
        // the channel; the pipeline never hears of it (4.1 and 4.2, every transport's flush goes there)
        hooks.netty("io.netty.channel.AbstractChannel$AbstractUnsafe").method(CHANNEL_WRITE_FAILURE, "handleWriteError",
                "(Ljava/lang/Throwable;)V").enter(field("this$0"), arg(0));
        hooks.netty("io.netty.channel.nio.AbstractNioByteChannel$NioByteUnsafe")
                .method(CHANNEL_PEER_EOF, "closeOnRead", 1).enter(field("this$0"));
        // the native transports: the peer's FIN (a read's EOF, EPOLLRDHUP, io_uring's POLLRDHUP) calls the
        // unsafe's shutdownInput(boolean) before the channel closes (4.1 and 4.2; grpc-netty-shaded's epoll)
        hooks.netty("io.netty.channel.epoll.AbstractEpollChannel$AbstractEpollUnsafe")
                .method(CHANNEL_PEER_EOF, "shutdownInput", "(Z)V").enter(field("this$0"));
        hooks.netty("io.netty.channel.uring.AbstractIoUringChannel$AbstractUringUnsafe")
                .method(CHANNEL_PEER_EOF, "shutdownInput", "(Z)V").enter(field("this$0"));
        hooks.netty("io.netty.channel.kqueue.AbstractKQueueChannel$AbstractKQueueUnsafe")
                .method(CHANNEL_PEER_EOF, "shutdownInput", "(Z)V").enter(field("this$0"));
    }

    @Override
    public Object enter(int hook, Object a, Object b, Object c, Object d, long n, long m) {
        if (a != null) {
            reading.event(hook, a, b);
        }
        return null;
    }

    @Override
    public void exit(int hook, Object token, Object a, Object b, Object c, long n, long m, Throwable thrown) {
        if (a != null) {
            reading.event(hook, a, b);
        }
    }

    /** What the channel's hooks saw before channelInactive. */
    static final class ChannelState {
        volatile java.lang.ref.WeakReference<Object> channel;
        volatile boolean peerEof;
        volatile boolean closedBelow;
        /** The channel's close has begun: what SslHandler flushed by now is all that went out. */
        volatile boolean closing;
        /** When SslHandler began to close (0: not yet), and how long it lets close_notify take to leave. */
        volatile long closeBegunNanos;
        volatile long flushTimeoutNanos;
    }

    static ChannelState state(Evidence ev) {
        Object s = ev.stackState;
        if (s instanceof ChannelState) {
            return (ChannelState) s;
        }
        synchronized (ev) {
            if (!(ev.stackState instanceof ChannelState)) {
                ev.stackState = new ChannelState();
            }
            return (ChannelState) ev.stackState;
        }
    }

    /**
     * A Netty connection's own close_notify counts once it left for the socket: until its channel
     * closes, the record waits (a close_notify still queued then was dropped by the flush timeout).
     */
    @Override
    public boolean holds(Evidence ev) {
        Verdict v = ev.verdict();
        Object s = ev.stackState;
        if (!(s instanceof ChannelState) || v == null) {
            return false;
        }
        ChannelState st = (ChannelState) s;
        return st.channel != null && !st.closing && ev.closeNotifySent
                && v.outcome() == Outcome.CLEAN && v.initiator() == Initiator.LOCAL;
    }

    @Override
    public void describe(Evidence ev, Object transport) {
        if (transport instanceof SSLEngine && ev.role.isEmpty()) {
            ev.role = ((SSLEngine) transport).getUseClientMode() ? "CLIENT" : "SERVER";
        }
        Object s = ev.stackState;
        java.lang.ref.WeakReference<Object> ch = s instanceof ChannelState ? ((ChannelState) s).channel : null;
        if (ch != null) {
            NettyAccess.describe(ev, ch.get());
        } else if (transport instanceof SSLEngine) {
            SSLEngine e = (SSLEngine) transport;
            String host = e.getPeerHost();
            ev.peerHost = host == null ? "" : host;
            ev.peerPort = e.getPeerPort();
        }
    }
}
