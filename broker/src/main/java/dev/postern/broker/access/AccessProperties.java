package dev.postern.broker.access;

import java.nio.file.Path;
import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * API access ({@code postern.access.*}).
 *
 * @param bootstrapAdminKey the first admin key, normally from {@code POSTERN_BOOTSTRAP_ADMIN_KEY};
 *        when empty, a key is generated on the first start
 * @param bootstrapKeyFile where a generated first admin key is written (mode 0600); the default is
 *        {@code data/bootstrap-admin-key}
 * @param keyCacheTtl how long a recognised API key is remembered without reading the store; the
 *        default is 30 seconds, also the longest a revocation takes to reach other replicas
 * @param maxFailedAuthentications failed authentications per source address, key prefix and minute
 *        before further failures of that pair get 429 (a valid key is always let in); the default is 20
 * @param maxFailedAuthenticationsPerAddress failed authentications per source address and minute,
 *        whatever the keys, after which that address's keys are refused with 429 unchecked (no store
 *        read), except keys that authenticated on this replica within a day; the default is 100
 */
@ConfigurationProperties("postern.access")
public record AccessProperties(@Nullable String bootstrapAdminKey,
        @DefaultValue("data/bootstrap-admin-key") Path bootstrapKeyFile, @DefaultValue("30s") Duration keyCacheTtl,
        @DefaultValue("20") int maxFailedAuthentications, @DefaultValue("100") int maxFailedAuthenticationsPerAddress) {

    @Override
    public String toString() {
        return "AccessProperties[bootstrapAdminKey=" + (bootstrapAdminKey == null ? "unset" : "(redacted)")
                + ", bootstrapKeyFile=" + bootstrapKeyFile + ", keyCacheTtl=" + keyCacheTtl
                + ", maxFailedAuthentications=" + maxFailedAuthentications + ", maxFailedAuthenticationsPerAddress="
                + maxFailedAuthenticationsPerAddress + "]";
    }
}
