package dev.postern.broker.mailproxy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Test;

import dev.postern.broker.Role;
import dev.postern.broker.access.ApiPrincipal;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.providers.ProviderIdentity;
import dev.postern.broker.providers.ProviderKind;

import static org.assertj.core.api.Assertions.assertThat;

class MailSessionsTests {

    private static final BiConsumer<MailLogins.Login, MailSessions.Revocation> NOT_REVOKED = (login, why) -> {
        throw new AssertionError("no session is revoked here");
    };

    private static final Instant NOW = Instant.parse("2026-12-06T05:00:00Z");

    /** A login to {@code accountId} with credential {@code credentialId} as {@code subject}, over IMAP. */
    static MailLogins.Login login(String accountId, String credentialId, String subject) {
        Account account = new Account(accountId, "app_a", ProviderKind.GENERIC, accountId + "@example.test",
                Account.Status.ACTIVE, "mail", NOW, NOW, null, null, new ProviderIdentity("https://idp.example", null, subject));
        return new MailLogins.Login(new ApiPrincipal(credentialId, Role.CLIENT, Set.of(), Set.of(accountId)), account, "imap",
                "127.0.0.1", System.nanoTime());
    }

    private static MailSessions.Admission open(MailSessions sessions, String accountId) {
        return sessions.open(login(accountId, "cli_" + accountId, "owner"), System.nanoTime());
    }

    @Test
    void aMailboxAtItsLimitIsRefusedWhileOthersStillGetPlacesAndAClosedSessionFreesOne() {
        MailSessions sessions = new MailSessions(2, 10, NOT_REVOKED);
        MailSessions.Admission first = open(sessions, "acc_a");
        MailSessions.Admission second = open(sessions, "acc_a");
        MailSessions.Admission third = open(sessions, "acc_a");
        assertThat(first.lease()).isNotNull();
        assertThat(second.lease()).isNotNull();
        assertThat(third.lease()).isNull();
        assertThat(third.refusal()).isEqualTo(MailSessions.Refusal.MAILBOX);
        assertThat(sessions.message(third.refusal())).contains("2 sessions");
        assertThat(open(sessions, "acc_b").lease()).isNotNull();
        assertThat(sessions.count("acc_a")).isEqualTo(2);
        assertThat(sessions.total()).isEqualTo(3);

        first.lease().close();
        first.lease().close();
        assertThat(sessions.count("acc_a")).as("a lease closed twice gives its place back once").isEqualTo(1);
        assertThat(open(sessions, "acc_a").lease()).isNotNull();
    }

    @Test
    void theProxyAtItsTotalLimitRefusesEveryMailboxUntilASessionEnds() {
        MailSessions sessions = new MailSessions(5, 2, NOT_REVOKED);
        MailSessions.Admission a = open(sessions, "acc_a");
        open(sessions, "acc_b");
        MailSessions.Admission refused = open(sessions, "acc_c");
        assertThat(refused.refusal()).isEqualTo(MailSessions.Refusal.TOTAL);
        assertThat(sessions.message(refused.refusal())).contains("limit of 2 open sessions");
        assertThat(sessions.count("acc_c")).isZero();
        a.lease().close();
        assertThat(open(sessions, "acc_c").lease()).isNotNull();
        assertThat(sessions.total()).isEqualTo(2);
    }

    @Test
    void racingLoginsOfOneMailboxGetExactlyItsLimitOfPlaces() throws Exception {
        MailSessions sessions = new MailSessions(3, 1000, NOT_REVOKED);
        CountDownLatch start = new CountDownLatch(1);
        ConcurrentLinkedQueue<MailSessions.Admission> admissions = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                admissions.add(open(sessions, "acc_race"));
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(admissions).filteredOn(a -> a.lease() != null).hasSize(3);
        assertThat(sessions.count("acc_race")).isEqualTo(3);
        assertThat(sessions.total()).isEqualTo(3);
    }

    /** The sessions a test's {@link MailSessions} reported revoked: credential id and why. */
    private final List<String> revoked = new CopyOnWriteArrayList<>();

    private MailSessions recording(int maxPerMailbox) {
        return new MailSessions(maxPerMailbox, 100,
                (login, why) -> revoked.add(login.principal().clientId() + " " + why.reason));
    }

    @Test
    void revokingACredentialEndsOnlyTheSessionsItLoggedInOnceEachAndClosingThemEmptiesTheMailbox() {
        MailSessions sessions = recording(5);
        MailSessions.Lease phone = sessions.open(login("acc_a", "apw_phone", "owner"), System.nanoTime()).lease();
        MailSessions.Lease phoneAgain = sessions.open(login("acc_a", "apw_phone", "owner"), System.nanoTime()).lease();
        MailSessions.Lease scanner = sessions.open(login("acc_a", "apw_scanner", "owner"), System.nanoTime()).lease();
        MailSessions.Lease key = sessions.open(login("acc_b", "cli_key", "owner"), System.nanoTime()).lease();

        assertThat(sessions.revokeCredential("apw_phone", MailSessions.Revocation.APP_PASSWORD_REVOKED)).isEqualTo(2);
        assertThat(sessions.revokeCredential("apw_phone", MailSessions.Revocation.APP_PASSWORD_REVOKED))
            .as("a session is ended once").isZero();
        assertThat(sessions.revokeCredential("apw_unknown", MailSessions.Revocation.APP_PASSWORD_REVOKED)).isZero();
        assertThat(revoked).containsExactly("apw_phone app_password_revoked", "apw_phone app_password_revoked");

        phone.close();
        phoneAgain.close();
        assertThat(sessions.count("acc_a")).isEqualTo(1);
        assertThat(sessions.revokeMailbox("acc_a", MailSessions.Revocation.ACCOUNT_REVOKED)).isEqualTo(1);
        scanner.close();
        assertThat(sessions.count("acc_a")).isZero();
        assertThat(sessions.count("acc_b")).isEqualTo(1);
        assertThat(sessions.revokeCredential("cli_key", MailSessions.Revocation.CLIENT_REVOKED)).isEqualTo(1);
        key.close();
        assertThat(sessions.total()).isZero();
        assertThat(revoked).containsExactly("apw_phone app_password_revoked", "apw_phone app_password_revoked",
                "apw_scanner account_revoked", "cli_key client_revoked");
    }

    @Test
    void aConnectByAnotherIdentityEndsTheSessionsOfThePreviousHolderOnly() {
        MailSessions sessions = recording(5);
        sessions.open(login("acc_a", "cli_old", "previous-holder"), System.nanoTime());
        MailSessions.Lease next = sessions.open(login("acc_a", "cli_new", "next-holder"), System.nanoTime()).lease();

        assertThat(sessions.revokeOtherIdentities(login("acc_a", "cli_any", "next-holder").account())).isEqualTo(1);
        assertThat(revoked).containsExactly("cli_old account_rebound");
        assertThat(next.revoke(MailSessions.Revocation.ACCOUNT_REVOKED)).as("the next holder's session was still open").isTrue();
    }

    @Test
    void aLoginCheckedBeforeARevokeButAdmittedAfterItIsEndedAsItOpensAndOneCheckedAfterIsNot() {
        MailSessions sessions = recording(5);
        long checkedBefore = System.nanoTime();
        sessions.revokeCredential("apw_phone", MailSessions.Revocation.APP_PASSWORD_REVOKED);
        sessions.revokeMailbox("acc_b", MailSessions.Revocation.ACCOUNT_REVOKED);
        long checkedAfter = System.nanoTime();

        MailSessions.Lease raced = sessions.open(login("acc_a", "apw_phone", "owner"), checkedBefore).lease();
        sessions.open(login("acc_b", "cli_key", "owner"), checkedBefore);
        MailSessions.Lease later = sessions.open(login("acc_b", "cli_key", "owner"), checkedAfter).lease();

        assertThat(revoked).containsExactly("apw_phone app_password_revoked", "cli_key account_revoked");
        assertThat(raced.revoke(MailSessions.Revocation.ACCOUNT_REVOKED)).as("ended already").isFalse();
        assertThat(later.revoke(MailSessions.Revocation.ACCOUNT_REVOKED)).as("a mailbox connected again after its revoke").isTrue();
    }
}
