package dev.postern.broker.tokens;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository.StoredApp;
import dev.postern.broker.apps.Credential;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenProviders;
import dev.postern.broker.testing.MutableClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** One refresh at the provider: which credentials are tried in which order, and the provider's circuit around it. */
class ProviderRefreshTests {

    static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    static final MailboxState STATE = new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt-0");

    private final MutableClock clock = new MutableClock(NOW);

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private final FakeTokenProvider provider = new FakeTokenProvider(clock);

    private final ProviderRefresh refresh = new ProviderRefresh(new TokenProviders(List.of(provider)),
            new ProviderCircuits(clock, new TokenProperties(Duration.ofMinutes(5), Duration.ofMinutes(10),
                    Duration.ofMinutes(15), Duration.ofSeconds(20), Duration.ofSeconds(1), Duration.ofSeconds(60),
                    Duration.ofDays(30), 5, Duration.ofSeconds(30), Duration.ofHours(1), 4)),
            new TokenMetrics(meters), clock);

    private static Credential credential(String id, Credential.CredentialState state, Instant expiresAt,
            @Nullable Instant retiredAt) {
        return new Credential(id, Credential.CredentialType.CLIENT_SECRET, state, null, NOW.minus(Duration.ofDays(30)),
                expiresAt, null, null, retiredAt, null);
    }

    private static Credential active(String id) {
        return credential(id, Credential.CredentialState.ACTIVE, NOW.plus(Duration.ofDays(90)), null);
    }

    private static Credential retired(String id, Duration ago, Instant expiresAt) {
        return credential(id, Credential.CredentialState.RETIRED, expiresAt, NOW.minus(ago));
    }

    /** An app at {@code tokenEndpoint} whose credential {@code cred_x} has the secret {@code secret-cred_x}. */
    private static StoredApp app(String id, String tokenEndpoint, Credential... credentials) {
        AppRegistration registration = new AppRegistration(id, id, ProviderKind.GENERIC, null, "client-" + id,
                List.of("mail"), URI.create("https://idp.example.test/authorize"), URI.create(tokenEndpoint), null,
                NOW, NOW, List.of(credentials), List.of(), null, null);
        Map<String, String> secrets = Arrays.stream(credentials)
            .collect(Collectors.toMap(Credential::id, credential -> "secret-" + credential.id()));
        return new StoredApp(registration, secrets, 1);
    }

    private static StoredApp app(Credential... credentials) {
        return app("app_a", "https://idp.example.test/token", credentials);
    }

    private ApiException problem(StoredApp app) {
        ApiException problem = catchThrowableOfType(ApiException.class, () -> refresh.refresh(app, STATE));
        assertThat(problem).as("the refresh failed").isNotNull();
        return problem;
    }

    private ProviderException refusal(StoredApp app) {
        ProviderException refusal = catchThrowableOfType(ProviderException.class, () -> refresh.refresh(app, STATE));
        assertThat(refusal).as("the provider refused").isNotNull();
        return refusal;
    }

    private double circuitOpenAnswers() {
        var counter = meters.find("postern_token_requests_total").tag("outcome", "circuit-open").counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void theActiveCredentialIsTriedFirstThenRetiredUnexpiredOnesNewestRetirementFirst() {
        StoredApp app = app(retired("cred_old", Duration.ofDays(20), NOW.plus(Duration.ofDays(5))),
                retired("cred_expired", Duration.ofDays(2), NOW.minusSeconds(1)),
                credential("cred_pending", Credential.CredentialState.PENDING, NOW.plus(Duration.ofDays(90)), null),
                retired("cred_recent", Duration.ofDays(1), NOW.plus(Duration.ofDays(5))), active("cred_active"));
        provider.refuse(ProviderException.Kind.CLIENT_REJECTED);

        ProviderException rejected = refusal(app);

        assertThat(rejected.kind()).as("the last rejection").isEqualTo(ProviderException.Kind.CLIENT_REJECTED);
        assertThat(provider.secrets()).containsExactly("secret-cred_active", "secret-cred_recent", "secret-cred_old");
    }

    @Test
    void aRejectedCredentialFallsThroughToTheNextWhichRefreshes() {
        StoredApp app = app(retired("cred_old", Duration.ofDays(1), NOW.plus(Duration.ofDays(5))), active("cred_new"));
        provider.answer((call, client, state) -> {
            if (call == 1) {
                throw FakeTokenProvider.failure(ProviderException.Kind.CLIENT_REJECTED, null);
            }
            return provider.grant("at-" + call, Duration.ofHours(1), "rt-" + call);
        });

        assertThat(refresh.refresh(app, STATE).accessToken()).isEqualTo("at-2");
        assertThat(provider.secrets()).containsExactly("secret-cred_new", "secret-cred_old");
    }

    @Test
    void otherRefusalsAreTheAnswerWithoutTryingAnotherCredential() {
        StoredApp app = app(retired("cred_old", Duration.ofDays(1), NOW.plus(Duration.ofDays(5))), active("cred_new"));
        for (ProviderException.Kind kind : List.of(ProviderException.Kind.REAUTH_REQUIRED, ProviderException.Kind.FAILED,
                ProviderException.Kind.RETRY_LATER)) {
            provider.refuse(kind);
            int before = provider.calls();

            assertThat(refusal(app).kind()).isEqualTo(kind);
            assertThat(provider.calls() - before).as(kind + ": one call").isEqualTo(1);
        }
        assertThat(provider.secrets()).containsOnly("secret-cred_new");
    }

    @Test
    void anAppWithoutAUsableCredentialIs409NoActiveCredentialWithoutACall() {
        StoredApp app = app(credential("cred_expired", Credential.CredentialState.ACTIVE, NOW.minusSeconds(1), null),
                retired("cred_retired_expired", Duration.ofDays(1), NOW),
                credential("cred_pending", Credential.CredentialState.PENDING, NOW.plus(Duration.ofDays(90)), null));

        ApiException problem = problem(app);

        assertThat(problem.status()).isEqualTo(HttpStatus.CONFLICT);
        assertThat(problem.type()).isEqualTo(ProblemTypes.NO_ACTIVE_CREDENTIAL);
        assertThat(provider.calls()).isZero();
    }

    @Test
    void fiveRetryLaterFailuresOpenTheEndpointsCircuitWhichAnswers503WithoutACall() {
        StoredApp app = app(active("cred_a"));
        StoredApp sameEndpoint = app("app_b", "https://idp.example.test/token", active("cred_b"));
        StoredApp otherEndpoint = app("app_c", "https://other.example.test/token", active("cred_c"));
        provider.refuse(ProviderException.Kind.RETRY_LATER);
        for (int i = 0; i < 4; i++) {
            refusal(app);
        }
        refusal(sameEndpoint); // the fifth in a row at this endpoint, whichever app
        assertThat(provider.calls()).isEqualTo(5);

        ApiException open = problem(app);

        assertThat(open.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(open.type()).isEqualTo(ProblemTypes.PROVIDER_UNAVAILABLE);
        assertThat(open.headers()).containsEntry("Retry-After", "30");
        assertThat(problem(sameEndpoint).type()).isEqualTo(ProblemTypes.PROVIDER_UNAVAILABLE);
        assertThat(provider.calls()).as("no call while open").isEqualTo(5);
        assertThat(circuitOpenAnswers()).isEqualTo(2);

        provider.answer((call, client, state) -> provider.grant("at-" + call, Duration.ofHours(1), "rt-" + call));
        assertThat(refresh.refresh(otherEndpoint, STATE).accessToken()).as("another endpoint is called").isEqualTo("at-6");
        clock.advance(Duration.ofSeconds(30));
        assertThat(refresh.refresh(app, STATE).accessToken()).as("the trial after the cool-down").isEqualTo("at-7");
        assertThat(refresh.refresh(app, STATE).accessToken()).as("closed again").isEqualTo("at-8");
    }

    @Test
    void onlyRetryLaterFailuresCountTowardsTheCircuit() {
        StoredApp app = app(active("cred_a"));
        for (ProviderException.Kind kind : List.of(ProviderException.Kind.REAUTH_REQUIRED, ProviderException.Kind.FAILED,
                ProviderException.Kind.CLIENT_REJECTED)) {
            provider.refuse(ProviderException.Kind.RETRY_LATER);
            for (int i = 0; i < 4; i++) {
                refusal(app);
            }
            provider.refuse(kind);
            refusal(app);
            assertThat(refusal(app).kind()).as("after 4 RETRY_LATER and a " + kind + ": still called").isEqualTo(kind);
        }
        assertThat(provider.calls()).isEqualTo(18);
        assertThat(circuitOpenAnswers()).isZero();
    }

    @Test
    void aTrialCallThatEndsWithoutAVerdictLetsTheNextTrialGo() {
        StoredApp app = app(active("cred_a"));
        provider.refuse(ProviderException.Kind.RETRY_LATER);
        for (int i = 0; i < 5; i++) {
            refusal(app);
        }
        clock.advance(Duration.ofSeconds(30));
        provider.answer((call, client, state) -> {
            throw new IllegalStateException("not an answer of the endpoint");
        });

        assertThat(catchThrowableOfType(IllegalStateException.class, () -> refresh.refresh(app, STATE))).isNotNull();

        provider.answer((call, client, state) -> provider.grant("at-" + call, Duration.ofHours(1), "rt-" + call));
        assertThat(refresh.refresh(app, STATE).accessToken()).as("the next trial, not 503").isEqualTo("at-7");
    }
}
