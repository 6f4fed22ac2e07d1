package dev.postern.broker.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.postern.broker.providers.MailboxState;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.providers.TokenGrant;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.SecretStore;
import dev.postern.broker.store.StoreCollection;
import dev.postern.broker.testing.ApiIntegrationTest;

/** The mailbox index on a real OpenBao: what connect writes, how a lookup misses, what the check repairs. */
class MailboxIndexIntegrationTests extends ApiIntegrationTest {

    @Autowired
    AccountService accounts;

    @Autowired
    AccountRepository repository;

    @Autowired
    MailboxIndex index;

    @Autowired
    MailboxIndexCheck check;

    @Autowired
    SecretStore store;

    private static String mailbox(String who) {
        return who + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
    }

    private static TokenGrant grant(String mailbox, String subject) {
        return new TokenGrant("at-" + UUID.randomUUID(), Instant.now().plus(Duration.ofHours(1)), "mail",
                new MailboxState(MailboxState.Kind.REFRESH_TOKEN, "rt-" + UUID.randomUUID()), mailbox,
                new ProviderIdentity("https://idp.example.test", null, subject), Map.of());
    }

    private Account connect(String app, String mailbox) {
        return accounts.connect("test", app, ProviderKind.MICROSOFT, mailbox, grant(mailbox, "sub-" + mailbox.toLowerCase()));
    }

    @Test
    void connectNamesEachAccountOfAnAddressInItsIndexAndAReconnectKeepsTheAccount() {
        String appA = createMicrosoftApp("Index A");
        String appB = createMicrosoftApp("Index B");
        String address = mailbox("ida");
        Account viaA = connect(appA, address.toUpperCase());
        Account viaB = connect(appB, address);
        Account again = connect(appA, address);

        assertThat(again.id()).isEqualTo(viaA.id());
        assertThat(index.find(address).accounts()).containsExactlyInAnyOrderEntriesOf(Map.of(viaA.id(), appA, viaB.id(), appB));
        assertThat(accounts.findByMailbox(" " + address.toUpperCase() + " ", a -> a.appId().equals(appB)))
            .map(Account::id).contains(viaB.id());
    }

    @Test
    void aMailboxMissingFromTheIndexIsNotFoundUntilTheCheckAddsIt() {
        String app = createMicrosoftApp("Index repair");
        String address = mailbox("lost");
        Account account = connect(app, address);
        // As if connected by a version before the index: the account is there, its entry is not.
        store.delete(SecretPath.of(StoreCollection.INDEXES, "mailbox", MailboxIndex.key(address)));

        assertThat(accounts.findByMailbox(address, a -> true)).as("a miss is a miss: no read of every account").isEmpty();

        assertThat(check.check()).isGreaterThanOrEqualTo(1);
        assertThat(index.find(address).accounts()).containsEntry(account.id(), app);
        assertThat(accounts.findByMailbox(address, a -> true)).map(Account::id).contains(account.id());
        assertThat(check.check()).as("nothing left to repair").isZero();
    }

    @Test
    void anEntryLeftWithoutItsAccountGivesItsIdToTheNextConnect() {
        String app = createMicrosoftApp("Index crash");
        String address = mailbox("crash");
        // A crash between the two writes of a first connect: the entry, no account.
        index.add(address, "acc_crashedbeforesave", app);
        assertThat(accounts.findByMailbox(address, a -> true)).isEmpty();

        Account account = connect(app, address);

        assertThat(account.id()).isEqualTo("acc_crashedbeforesave");
        assertThat(repository.find(account.id())).isPresent();
        assertThat(accounts.findByMailbox(address, a -> true)).map(Account::id).contains(account.id());
    }

    @Test
    void concurrentFirstConnectsOfOneMailboxMakeOneAccount() throws Exception {
        String app = createMicrosoftApp("Index race");
        String address = mailbox("race");
        CountDownLatch start = new CountDownLatch(1);
        List<Future<String>> connects = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 3; i++) { // within connect's four CAS attempts
                connects.add(threads.submit(() -> {
                    start.await();
                    // The same identity each time: the reconnects are allowed.
                    return accounts.connect("test", app, ProviderKind.MICROSOFT, address, grant(address, "sub-race")).id();
                }));
            }
            start.countDown();
            Set<String> ids = new TreeSet<>();
            for (Future<String> connect : connects) {
                ids.add(connect.get());
            }
            assertThat(ids).hasSize(1);
            assertThat(index.find(address).accounts()).containsOnlyKeys(ids);
        }
    }
}
