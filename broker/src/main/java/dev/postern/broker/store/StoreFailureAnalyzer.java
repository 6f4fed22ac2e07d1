package dev.postern.broker.store;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a store that cannot be used at start-up into a short explanation instead of a stack trace. */
class StoreFailureAnalyzer extends AbstractFailureAnalyzer<SecretStoreException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, SecretStoreException cause) {
        return new FailureAnalysis("Postern cannot use its secret store: " + cause.getMessage(),
                "Check postern.store.* (docs/configuration.md): for Vault the address, the token or AppRole, "
                        + "the KV v2 and Transit mounts and Postern's policy (docs/vault.md); for the embedded store "
                        + "the file, its folder and the master key.",
                cause);
    }
}
