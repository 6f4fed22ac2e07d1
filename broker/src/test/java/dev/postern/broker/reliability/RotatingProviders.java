package dev.postern.broker.reliability;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.ToIntBiFunction;
import java.util.function.ToIntFunction;

import dev.postern.broker.reliability.RotatingRefreshTokens.Rotation;
import dev.postern.broker.testing.BrokerClient;
import dev.postern.broker.testing.TestIdentityProvider;

/**
 * The set-up of the tests that stop a broker in the middle of rotating refreshes: one provider per
 * {@link Rotation} (a {@link FakeTokenEndpoint} that issues and rotates refresh tokens), each behind
 * a generic app of its own with mailboxes connected through it, and a client key for every app.
 * Closing it stops the endpoints. The constants are the run both tests make through it.
 */
final class RotatingProviders implements AutoCloseable {

    /**
     * 25 mailboxes per provider, 50 in all: far more than {@link #CLIENT_THREADS}, so two requests for one
     * mailbox almost never overlap and each request is a refresh of its own; every mailbox rotates about
     * ten times before the broker stops; and connecting them (one after another) stays within seconds.
     */
    static final int MAILBOXES_PER_PROVIDER = 25;

    /** Token requests in the run. */
    static final int REQUESTS = 1000;

    static final int CLIENT_THREADS = 8;

    /** Every token lives two minutes and every request asks for five: each one is a miss, a refresh. */
    static final Duration TOKEN_LIFETIME = Duration.ofMinutes(2);

    static final int MIN_TTL = 300;

    /** One provider's refresh tokens, endpoint and accounts by mailbox. */
    record Provider(RotatingRefreshTokens refreshTokens, FakeTokenEndpoint endpoint, Map<String, String> accounts) {
    }

    final List<Provider> providers;

    final String clientKey;

    /** Every account, alternating between the providers: a held answer of one waits for the other's next request only. */
    final List<String> accounts;

    private RotatingProviders(List<Provider> providers, String clientKey, List<String> accounts) {
        this.providers = providers;
        this.clientKey = clientKey;
        this.accounts = accounts;
    }

    /**
     * Connects {@link #MAILBOXES_PER_PROVIDER} mailboxes named {@code name-…@example.test} at each
     * provider through {@code api}, with tokens that live {@link #TOKEN_LIFETIME}.
     */
    static RotatingProviders connect(BrokerClient api, TestIdentityProvider idp, String name) throws IOException {
        List<Provider> providers = new ArrayList<>();
        try {
            List<String> apps = new ArrayList<>();
            for (Rotation rotation : Rotation.values()) {
                RotatingRefreshTokens refreshTokens = new RotatingRefreshTokens(rotation);
                FakeTokenEndpoint endpoint = FakeTokenEndpoint.issuingRefreshTokens(idp, refreshTokens, TOKEN_LIFETIME);
                providers.add(new Provider(refreshTokens, endpoint, Map.of()));
                String app = api.genericApp(idp.issuerUrl() + "/authorize", endpoint.url());
                List<String> mailboxes = new ArrayList<>();
                for (int i = 0; i < MAILBOXES_PER_PROVIDER; i++) {
                    mailboxes.add(name + "-" + rotation.name().toLowerCase() + "-" + i + "-"
                            + UUID.randomUUID().toString().substring(0, 8) + "@example.test");
                }
                providers.set(providers.size() - 1, new Provider(refreshTokens, endpoint,
                        api.connectAll(idp, TestIdentityProvider.ISSUER_ID, app, mailboxes, TOKEN_LIFETIME)));
                apps.add(app);
            }
            List<String> accounts = new ArrayList<>();
            for (int i = 0; i < MAILBOXES_PER_PROVIDER; i++) {
                for (Provider provider : providers) {
                    accounts.add(List.copyOf(provider.accounts().values()).get(i));
                }
            }
            return new RotatingProviders(List.copyOf(providers), api.clientKey(apps.toArray(String[]::new)),
                    List.copyOf(accounts));
        }
        catch (IOException | RuntimeException ex) {
            providers.forEach(provider -> provider.endpoint().close());
            throw ex;
        }
    }

    /**
     * Sends the {@link #REQUESTS} token requests, each asking for {@link #MIN_TTL} and so each a
     * refresh, over {@code accounts} in turn from {@link #CLIENT_THREADS} virtual threads. Each answer
     * goes to {@code onAnswer}; a request that got none (the {@link BrokerClient}'s
     * {@code IllegalStateException}) goes to {@code onNoAnswer} and ends its thread.
     *
     * @return whether every thread ended within two minutes
     */
    boolean runClients(BrokerClient api, List<String> accounts, Consumer<BrokerClient.Answer> onAnswer,
            Consumer<IllegalStateException> onNoAnswer) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        for (int t = 0; t < CLIENT_THREADS; t++) {
            clients.execute(() -> {
                for (int i = next.getAndIncrement(); i < REQUESTS; i = next.getAndIncrement()) {
                    BrokerClient.Answer answer;
                    try {
                        answer = api.token(clientKey, accounts.get(i % accounts.size()), MIN_TTL);
                    }
                    catch (IllegalStateException noAnswer) {
                        onNoAnswer.accept(noAnswer);
                        return;
                    }
                    onAnswer.accept(answer);
                }
            });
        }
        clients.shutdown();
        return clients.awaitTermination(2, TimeUnit.MINUTES);
    }

    /** Sends each provider's rotated answers through the sender {@code senders} gives for its index. */
    void sendRotatedAnswersThrough(IntFunction<Consumer<Runnable>> senders) {
        for (int p = 0; p < providers.size(); p++) {
            providers.get(p).endpoint().sendRotatedAnswersThrough(senders.apply(p));
        }
    }

    /** Refresh tokens presented that no provider issued (the credential checks of setting up present some). */
    int unknownPresented() {
        return sum(RotatingRefreshTokens::unknownPresented);
    }

    /** Rotations at every provider so far. */
    int rotations() {
        return sum(RotatingRefreshTokens::rotations);
    }

    /** The newest refresh token generation of every mailbox, now. */
    Map<String, Integer> latestGenerations() {
        return perMailbox(RotatingRefreshTokens::latestGeneration);
    }

    /** How many refreshes every mailbox made so far. */
    Map<String, Integer> refreshCounts() {
        return perMailbox((tokens, mailbox) -> tokens.redemptions(mailbox).size());
    }

    private int sum(ToIntFunction<RotatingRefreshTokens> count) {
        return providers.stream().mapToInt(provider -> count.applyAsInt(provider.refreshTokens())).sum();
    }

    private Map<String, Integer> perMailbox(ToIntBiFunction<RotatingRefreshTokens, String> value) {
        Map<String, Integer> values = new LinkedHashMap<>();
        for (Provider provider : providers) {
            for (String mailbox : provider.accounts().keySet()) {
                values.put(mailbox, value.applyAsInt(provider.refreshTokens(), mailbox));
            }
        }
        return values;
    }

    @Override
    public void close() {
        providers.forEach(provider -> provider.endpoint().close());
    }
}
