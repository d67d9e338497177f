package dev.tlsautopsy.libraries;

import dev.tlsautopsy.demo.proxy.FaultProxy;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * gRPC over grpc-netty-shaded (its own relocated Netty 4.1, epoll and BoringSSL inside), client and server:
 * unary and server-streaming calls, either side shutting down, faults from a proxy mid-stream, and a
 * handshake failure.
 */
final class GrpcCases {

    private GrpcCases() {
    }

    static List<Case> all() {
        List<Case> out = new java.util.ArrayList<>();
        out.add(new Case("grpc-clean", "gRPC", "a unary call, then the client's channel shuts down", 2,
                r -> {
                    Server server = grpcServer(r);
                    try {
                        ManagedChannel ch = grpcChannel(r, r.port(server.getPort()), true);
                        r.saw(call(ch));
                        ch.shutdown().awaitTermination(10, TimeUnit.SECONDS);
                    } finally {
                        server.shutdown().awaitTermination(10, TimeUnit.SECONDS);
                    }
                }));
        out.add(new Case("grpc-server-close", "gRPC", "a unary call, then the server shuts down", 2,
                r -> {
                    Server server = grpcServer(r);
                    ManagedChannel ch = grpcChannel(r, r.port(server.getPort()), true);
                    try {
                        r.saw(call(ch));
                        server.shutdown().awaitTermination(10, TimeUnit.SECONDS);
                        Thread.sleep(300);
                    } finally {
                        ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                    }
                }));
        for (FaultProxy.Fault f : new FaultProxy.Fault[] {FaultProxy.Fault.CUT_AT_BOUNDARY, FaultProxy.Fault.RESET,
            FaultProxy.Fault.CUT_MID_BODY, FaultProxy.Fault.FLIP_BIT}) {
            String n = f == FaultProxy.Fault.CUT_AT_BOUNDARY ? "truncated" : f == FaultProxy.Fault.RESET ? "reset"
                    : f == FaultProxy.Fault.CUT_MID_BODY ? "short-read" : "bad-record-mac";
            out.add(new Case("grpc-streaming-" + n, "gRPC", "a server-streaming call through a proxy that "
                    + (f == FaultProxy.Fault.CUT_AT_BOUNDARY ? "cuts TCP at a record boundary" : f == FaultProxy.Fault.RESET
                    ? "resets both sides" : f == FaultProxy.Fault.CUT_MID_BODY ? "cuts the next record in its middle"
                    : "flips a bit in the next record") + " mid-stream", 2, r -> streaming(r, f)));
        }
        out.add(new Case("grpc-handshake-failure", "gRPC", "the client does not trust the server's certificate", 2,
                r -> {
                    Server server = grpcServer(r);
                    ManagedChannel ch = grpcChannel(r, r.port(server.getPort()), false);
                    try {
                        r.saw(call(ch));
                    } catch (RuntimeException e) {
                        r.saw(e);
                    } finally {
                        // the server reads the client's alert in its own time
                        Thread.sleep(300);
                        ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                    }
                }));
        return out;
    }

    /** Reads a stream's first message, hurts the connection through the proxy, then reads on until it fails. */
    private static void streaming(Case.Run r, FaultProxy.Fault fault) throws Exception {
        Server server = grpcServer(r);
        try (FaultProxy proxy = new FaultProxy(r.port(server.getPort()))) {
            ManagedChannel ch = grpcChannel(r, r.port(proxy.port()), true);
            try {
                java.util.Iterator<byte[]> stream = ClientCalls.blockingServerStreamingCall(ch, TICKS,
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "go".getBytes(StandardCharsets.US_ASCII));
                r.saw("first: " + new String(stream.next(), StandardCharsets.US_ASCII));
                proxy.arm(fault);
                int more = 0;
                while (stream.hasNext()) {
                    stream.next();
                    more++;
                }
                r.saw("then " + more + " more, and the end");
            } catch (RuntimeException e) {
                r.saw(e);
            } finally {
                Thread.sleep(200);
                ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
        } finally {
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    // ---------------------------------------------------------------- gRPC

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> ECHO = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("tlsautopsy.Echo/Echo")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    /** A server-streaming method: a message every 50 ms, 200 of them. */
    private static final MethodDescriptor<byte[], byte[]> TICKS = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.SERVER_STREAMING).setFullMethodName("tlsautopsy.Echo/Ticks")
            .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

    private static Server grpcServer(Case.Run r) throws Exception {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("tlsautopsy.Echo")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext(req);
                    out.onCompleted();
                }))
                .addMethod(TICKS, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    Thread t = new Thread(() -> {
                        try {
                            for (int i = 0; i < 200; i++) {
                                out.onNext(("tick " + i).getBytes(StandardCharsets.US_ASCII));
                                Thread.sleep(50);
                            }
                            out.onCompleted();
                        } catch (RuntimeException | InterruptedException ended) {
                            // the call was cancelled: the connection is gone
                        }
                    }, "grpc-ticks");
                    t.setDaemon(true);
                    t.start();
                })).build();
        return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.configure(
                        io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder.forServer(r.tls.serverKeys)).build())
                .addService(echo).build().start();
    }

    private static ManagedChannel grpcChannel(Case.Run r, int port, boolean trusting) throws Exception {
        return NettyChannelBuilder.forAddress("localhost", port)
                .sslContext(GrpcSslContexts.forClient().trustManager(trusting ? r.tls.clientTrust : r.tls.otherTrust).build())
                .build();
    }

    private static String call(ManagedChannel ch) {
        byte[] answer = ClientCalls.blockingUnaryCall(ch, ECHO, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                "ping".getBytes(StandardCharsets.US_ASCII));
        return "answer: " + new String(answer, StandardCharsets.US_ASCII);
    }
}
