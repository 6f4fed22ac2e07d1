package dev.postern.broker.tokens;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.providers.AuthorizationRequest;
import dev.postern.broker.providers.ClientAuthentication;
import dev.postern.broker.providers.CredentialCheck;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderClient;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.providers.TokenProvider;

/**
 * A generic provider in memory for the token path's unit tests: counts its refreshes and the
 * client secrets they came with, answers as the test says (by default access token {@code at-N}
 * for an hour and rotated refresh token {@code rt-N} for the N-th call), and can hold its calls
 * until the test lets them go.
 */
final class FakeTokenProvider implements TokenProvider {

    /** The answer to one refresh call; may throw a {@link ProviderException}. */
    @FunctionalInterface
    interface Answer {

        TokenGrant answer(int call, ProviderClient client, MailboxState state);
    }

    private final Clock clock;

    private final AtomicInteger calls = new AtomicInteger();

    private final List<String> secrets = new CopyOnWriteArrayList<>();

    private final Semaphore arrived = new Semaphore(0);

    private volatile Answer answer;

    private volatile @Nullable CountDownLatch gate;

    FakeTokenProvider(Clock clock) {
        this.clock = clock;
        this.answer = (call, client, state) -> grant("at-" + call, Duration.ofHours(1), "rt-" + call);
    }

    /** A grant of {@code accessToken} for {@code lifetime} from now, with {@code refreshToken} to store. */
    TokenGrant grant(String accessToken, Duration lifetime, String refreshToken) {
        return new TokenGrant(accessToken, clock.instant().plus(lifetime), "mail",
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, refreshToken), null, null, Map.of());
    }

    /** A refusal of {@code kind} with a typical OAuth error code for it. */
    static ProviderException failure(ProviderException.Kind kind, @Nullable Duration retryAfter) {
        String error = switch (kind) {
            case REAUTH_REQUIRED -> "invalid_grant";
            case CLIENT_REJECTED -> "invalid_client";
            case RETRY_LATER -> "temporarily_unavailable";
            case FAILED -> "invalid_scope";
        };
        return new ProviderException(kind, error, "the identity provider answered " + error, retryAfter);
    }

    void answer(Answer next) {
        this.answer = next;
    }

    /** Every call refuses with {@code kind}. */
    void refuse(ProviderException.Kind kind) {
        this.answer = (call, client, state) -> {
            throw failure(kind, null);
        };
    }

    /** Holds the calls from now on until {@link #release()}. */
    void hold() {
        gate = new CountDownLatch(1);
    }

    void release() {
        CountDownLatch held = gate;
        if (held != null) {
            held.countDown();
        }
    }

    /** Waits (at most 10 s) until a call has arrived since the last one this waited for. */
    void awaitCall() throws InterruptedException {
        if (!arrived.tryAcquire(10, TimeUnit.SECONDS)) {
            throw new AssertionError("no provider call arrived");
        }
    }

    int calls() {
        return calls.get();
    }

    /** The client secrets of the calls, in order. */
    List<String> secrets() {
        return List.copyOf(secrets);
    }

    @Override
    public ProviderKind kind() {
        return ProviderKind.GENERIC;
    }

    @Override
    public TokenGrant refresh(ProviderClient client, MailboxState state) {
        int call = calls.incrementAndGet();
        secrets.add(client.authentication() instanceof ClientAuthentication.Secret(String value) ? value : "certificate");
        arrived.release();
        CountDownLatch held = gate;
        if (held != null) {
            try {
                if (!held.await(10, TimeUnit.SECONDS)) {
                    throw new AssertionError("the test never released the provider call");
                }
            }
            catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", ex);
            }
        }
        return answer.answer(call, client, state);
    }

    @Override
    public URI authorizationUrl(ProviderClient client, AuthorizationRequest request) {
        throw new UnsupportedOperationException("refresh only");
    }

    @Override
    public TokenGrant exchangeCode(ProviderClient client, String code, URI redirectUri, String codeVerifier) {
        throw new UnsupportedOperationException("refresh only");
    }

    @Override
    public CredentialCheck verifyCredential(ProviderClient client) {
        throw new UnsupportedOperationException("refresh only");
    }
}
