package dev.postern.broker.access;

import java.nio.file.Path;

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
 */
@ConfigurationProperties("postern.access")
public record AccessProperties(@Nullable String bootstrapAdminKey,
        @DefaultValue("data/bootstrap-admin-key") Path bootstrapKeyFile) {

    @Override
    public String toString() {
        return "AccessProperties[bootstrapAdminKey=" + (bootstrapAdminKey == null ? "unset" : "(redacted)")
                + ", bootstrapKeyFile=" + bootstrapKeyFile + "]";
    }
}
