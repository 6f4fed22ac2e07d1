package dev.postern.broker.access;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;
import org.springframework.util.StringUtils;

import dev.postern.broker.Role;
import dev.postern.broker.audit.AuditActions;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.VersionConflictException;

/**
 * Creates the first admin API client when the store has none. The key is taken from
 * {@code POSTERN_BOOTSTRAP_ADMIN_KEY}, or generated and written once to a file with mode 0600;
 * it is never logged, only the file's location and the key's public prefix.
 */
@Component
class BootstrapAdmin implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(BootstrapAdmin.class);

    private final SecretStore store;

    private final ApiClientRepository clients;

    private final AccessProperties properties;

    private final Clock clock;

    private final AuditLog audit;

    BootstrapAdmin(SecretStore store, ApiClientRepository clients, AccessProperties properties, Clock clock,
            AuditLog audit) {
        this.store = store;
        this.clients = clients;
        this.properties = properties;
        this.clock = clock;
        this.audit = audit;
    }

    @Override
    public void run(ApplicationArguments args) throws IOException {
        if (!store.list(SecretPath.of(StoreCollection.CLIENTS)).isEmpty()) {
            return;
        }
        String given = properties.bootstrapAdminKey();
        boolean generated = !StringUtils.hasText(given);
        if (!generated && given.length() < ApiKeys.MIN_LENGTH) {
            throw new IllegalStateException("POSTERN_BOOTSTRAP_ADMIN_KEY must be at least " + ApiKeys.MIN_LENGTH
                    + " characters; better, leave it empty and let Postern generate one");
        }
        String key = generated ? ApiKeys.generate() : given;
        ApiClient admin = new ApiClient(ApiKeys.clientIdFor(key), "bootstrap admin", Role.ADMIN, List.of(), List.of(),
                ApiKeys.publicPrefix(key), clock.instant(), null, null);
        try {
            clients.create(admin, ApiKeys.hash(key));
        }
        catch (VersionConflictException ex) {
            return; // another replica bootstrapped at the same moment
        }
        audit.success(Actors.SYSTEM, AuditActions.CLIENT_CREATE, "client", admin.id(),
                Map.of("role", "admin", "name", admin.name(), "key_source", generated ? "generated" : "environment"));
        if (generated) {
            Path file = writeKeyFile(key);
            log.info("Created the bootstrap admin API client {} (key {}…); its key was written once to {} (mode 0600): "
                    + "read it, keep it safe, then delete the file", admin.id(), admin.keyPrefix(), file.toAbsolutePath());
        }
        else {
            log.info("Created the bootstrap admin API client {} from POSTERN_BOOTSTRAP_ADMIN_KEY", admin.id());
        }
    }

    private Path writeKeyFile(String key) throws IOException {
        Path file = properties.bootstrapKeyFile();
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, key + "\n", StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
        return file;
    }
}
