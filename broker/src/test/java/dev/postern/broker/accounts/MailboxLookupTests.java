package dev.postern.broker.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.EmbeddedSecretStore;
import dev.postern.broker.store.MasterKeys;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.store.StoredDocument;
import dev.postern.broker.testing.ForwardingStore;
import dev.postern.broker.testing.MutableClock;

/**
 * A token request by mailbox on a replica that asks for that address for the first time: the
 * accounts it already knows for the address are read while the mailbox index is, and the index
 * still decides which accounts count. Two replicas on one embedded store.
 */
class MailboxLookupTests {

    @TempDir
    Path folder;

    private EmbeddedSecretStore embedded;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-06T08:00:00Z"));

    /** Armed: a read of the mailbox index waits until an account read has started, or 5 s. */
    private volatile boolean gated;

    private final CountDownLatch accountReadStarted = new CountDownLatch(1);

    private final AtomicBoolean indexWaitedInVain = new AtomicBoolean();

    private AccountService connecting;

    private AccountService asking;

    @BeforeEach
    void start() {
        embedded = new EmbeddedSecretStore(folder.resolve("store.bin"), MasterKeys.fromKeyFile(folder.resolve("master.key")));
        AuditLog audit = new AuditLog(embedded, clock, new SimpleMeterRegistry());
        connecting = TestAccounts.service(embedded, clock, audit, event -> {
        });
        asking = TestAccounts.service(new Gated(), clock, audit, event -> {
        });
    }

    @AfterEach
    void stop() {
        embedded.close();
    }

    private Account connect(String app, String address) {
        TokenGrant grant = new TokenGrant("at-" + app, clock.instant().plus(Duration.ofHours(1)), "mail",
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt-" + app), address,
                new ProviderIdentity("https://idp.example.test", null, "sub-" + address), Map.of());
        Account account = connecting.connect("test", app, ProviderKind.GENERIC, address, grant);
        clock.advance(Duration.ofSeconds(1));
        return account;
    }

    @Test
    void theAccountsAReplicaKnowsAreReadWhileTheMailboxIndexIs() {
        Account known = connect("app_a", "shared@example.test");
        asking.get(known.id()); // this replica has read it once (an admin page, the expiry scan)
        clock.advance(Duration.ofHours(1)); // its cached copy is no longer fresh
        gated = true;

        Optional<Account> found = asking.findByMailbox("Shared@Example.test", account -> true);

        assertThat(found).map(Account::id).contains(known.id());
        assertThat(indexWaitedInVain).as("the index read ended before any account read began").isFalse();
    }

    @Test
    void theMailboxIndexDecidesWhenTheReplicasGuessIsOutOfDate() {
        Account older = connect("app_a", "moved@example.test");
        asking.get(older.id());
        Account newer = connect("app_b", "moved@example.test"); // on the other replica: not known here
        clock.advance(Duration.ofHours(1));

        assertThat(asking.findByMailbox("moved@example.test", account -> true)).map(Account::id).contains(newer.id());
        assertThat(asking.findByMailbox("moved@example.test", account -> account.appId().equals("app_a")))
            .map(Account::id).contains(older.id());
        assertThat(asking.findByMailbox("never@example.test", account -> true)).isEmpty();
    }

    /** The embedded store, holding a read of the mailbox index back while {@link #gated}. */
    private final class Gated extends ForwardingStore {

        Gated() {
            super(embedded);
        }

        @Override
        public Optional<StoredDocument> read(SecretPath path) {
            if (gated && path.collection() == StoreCollection.ACCOUNTS) {
                accountReadStarted.countDown();
            }
            if (gated && path.collection() == StoreCollection.INDEXES) {
                try {
                    if (!accountReadStarted.await(5, TimeUnit.SECONDS)) {
                        indexWaitedInVain.set(true);
                    }
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            }
            return backend.read(path);
        }
    }
}
