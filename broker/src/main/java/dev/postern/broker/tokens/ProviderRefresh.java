package dev.postern.broker.tokens;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Component;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.apps.AppRegistration;
import dev.postern.broker.apps.AppRepository.StoredApp;
import dev.postern.broker.apps.Credential;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderException;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.providers.TokenProviders;

/**
 * One refresh of a mailbox at its identity provider, through its app's circuit: with the app's
 * active credential, then with retired ones that have not expired, so a rotation never breaks a
 * mailbox. It returns the provider's grant and stores nothing.
 */
@Component
class ProviderRefresh {

    private final TokenProviders providers;

    private final ProviderCircuits circuits;

    private final TokenMetrics metrics;

    private final Clock clock;

    ProviderRefresh(TokenProviders providers, ProviderCircuits circuits, TokenMetrics metrics, Clock clock) {
        this.providers = providers;
        this.circuits = circuits;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * The provider's grant for {@code state}.
     *
     * @throws ProviderException the provider's refusal; after every credential was rejected, the last rejection
     * @throws ApiException 503 while the provider's circuit is open, 409 when the app has no usable credential
     */
    TokenGrant refresh(StoredApp app, MailboxState state) throws ProviderException {
        AppRegistration registration = app.app();
        String endpoint = registration.provider().name().toLowerCase(Locale.ROOT) + " "
                + (registration.tokenEndpoint() != null ? registration.tokenEndpoint() : String.valueOf(registration.tenant()));
        ProviderException lastRejection = null;
        for (Credential credential : usableCredentials(registration)) {
            Duration open = circuits.refuse(endpoint);
            if (open != null) {
                metrics.request("circuit-open");
                throw TokenProblems.providerUnavailable(open);
            }
            Timer.Sample sample = metrics.startProviderCall();
            try {
                TokenGrant grant = providers.forKind(registration.provider())
                    .refresh(app.providerClient(credential), state);
                circuits.answered(endpoint);
                return grant;
            }
            catch (ProviderException ex) {
                if (ex.kind() == ProviderException.Kind.RETRY_LATER) {
                    circuits.failed(endpoint);
                }
                else {
                    circuits.answered(endpoint);
                }
                metrics.providerError(registration.provider(), ex.error());
                if (ex.kind() != ProviderException.Kind.CLIENT_REJECTED) {
                    throw ex;
                }
                lastRejection = ex; // try the next usable credential
            }
            catch (RuntimeException ex) {
                circuits.abandoned(endpoint);
                throw ex;
            }
            finally {
                metrics.providerCallEnded(sample);
            }
        }
        if (lastRejection != null) {
            throw lastRejection;
        }
        throw ApiException.conflict(ProblemTypes.NO_ACTIVE_CREDENTIAL, "The app of this mailbox has no usable credential.");
    }

    /** The active credential first, then retired ones that have not expired, newest retirement first. */
    private List<Credential> usableCredentials(AppRegistration app) {
        Instant now = clock.instant();
        List<Credential> usable = new ArrayList<>();
        app.activeCredential().filter(c -> c.isUnexpiredAt(now)).ifPresent(usable::add);
        app.credentials()
            .stream()
            .filter(c -> c.state() == Credential.CredentialState.RETIRED && c.isUnexpiredAt(now))
            .sorted(Comparator.comparing(Credential::retiredAt, Comparator.nullsLast(Comparator.reverseOrder())))
            .forEach(usable::add);
        return usable;
    }
}
