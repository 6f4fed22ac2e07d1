package dev.postern.broker.store;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.stereotype.Component;

/** Reports whether the store answers: DOWN when Vault is unreachable, sealed or refuses us. */
@Component("store")
class StoreHealthIndicator extends AbstractHealthIndicator {

    private final SecretStore store;

    StoreHealthIndicator(SecretStore store) {
        super("store health check failed");
        this.store = store;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        try {
            builder.up().withDetails(store.checkHealth());
        }
        catch (StoreUnavailableException ex) {
            builder.down().withDetail("reason", ex.getMessage());
        }
    }
}
