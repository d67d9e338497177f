package dev.tlsautopsy.demo.scenario;

import java.util.function.Function;

/**
 * One way a TLS connection can end, run for real over loopback: both sides' application code, and
 * what tls-autopsy should record for each side ({@code null}: no record, e.g. a plain TCP peer).
 */
public final class Scenario {

    /** Both sides' application code; returns when both sides are done. */
    public interface Body {
        void run(Env env) throws Exception;
    }

    public final String name;
    public final String title;
    public final String hint;
    public final Body body;
    public final Function<Env, Expect> client;
    public final Function<Env, Expect> server;
    public final Function<Env.Api, Boolean> applies;

    public Scenario(String name, String title, String hint, Function<Env.Api, Boolean> applies, Body body,
             Function<Env, Expect> client, Function<Env, Expect> server) {
        this.name = name;
        this.title = title;
        this.hint = hint;
        this.applies = applies;
        this.body = body;
        this.client = client;
        this.server = server;
    }

    /** The scenarios run on BouncyCastle's engine: the other provider's endings, not its every corner. */
    public static final java.util.Set<String> BOUNCY_CASTLE = java.util.Set.of("clean-close-client", "clean-close-server",
            "truncated", "bad-record-mac", "short-read-body", "reset-on-read", "short-read-header", "reset-on-write",
            "untrusted-certificate", "close-below-tls", "abandoned", "read-timeout-then-close", "handshake-timeout");

    public boolean appliesTo(Env.Api api) {
        if (api == Env.Api.SSLEngineBC && !BOUNCY_CASTLE.contains(name)) {
            return false;
        }
        return applies.apply(api);
    }
}
