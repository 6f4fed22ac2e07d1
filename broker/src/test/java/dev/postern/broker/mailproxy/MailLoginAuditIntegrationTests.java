package dev.postern.broker.mailproxy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Ticker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.access.ApiClientService;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.store.CountingSecretStore;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.testing.BrokerClient.Answer;
import dev.postern.broker.tokens.TokenService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What an anonymous mail client makes Postern store and read: a refused login is audited with the
 * user name it gave, and that name is bounded like a mailbox address, so that nobody without
 * credentials can write kilobytes per attempt into the audit trail (8 KiB command lines, 500 events
 * per chunk); after a few failures its address is refused unchecked, with one audit event for the
 * block; and an unknown mailbox costs the same store reads as a connected one.
 */
class MailLoginAuditIntegrationTests extends ApiIntegrationTest {

    @Autowired
    ApiClientService clients;

    @Autowired
    AccountService accounts;

    @Autowired
    AppPasswordService appPasswords;

    @Autowired
    TokenService tokens;

    @Autowired
    AuditLog audit;

    @Autowired
    MeterRegistry meters;

    private MailLogins logins(FailedLogins failedLogins) {
        return new MailLogins(clients, accounts, appPasswords, tokens, audit, meters, Duration.ofMinutes(5), failedLogins);
    }

    /** A loopback address of this run alone, so that other runs' failures and audit entries do not count. */
    private static InetAddress someLoopbackAddress() throws UnknownHostException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return InetAddress.getByAddress(new byte[] {127, (byte) random.nextInt(1, 255), (byte) random.nextInt(1, 255),
                (byte) random.nextInt(1, 255)});
    }

    private static String someAppPassword() {
        return "ppw_" + UUID.randomUUID().toString().replace("-", "") + "0123456789a";
    }

    private String newAppPassword(String account) {
        Answer created = post("/v1/accounts/" + account + "/app-passwords", ADMIN_KEY, "{}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.text("password");
    }

    /** Store reads a login check makes: app passwords (never cached), API keys and the mailbox index. */
    private double loginReads() {
        return meters.find(CountingSecretStore.METRIC)
            .tag("operation", "get")
            .counters()
            .stream()
            .filter(counter -> List.of("app-passwords", "clients", "indexes").contains(counter.getId().getTag("collection")))
            .mapToDouble(Counter::count)
            .sum();
    }

    private double appPasswordReads() {
        Counter counter = meters.find(CountingSecretStore.METRIC).tag("operation", "get").tag("collection", "app-passwords")
            .counter();
        return counter == null ? 0 : counter.count();
    }

    private double refusedUnchecked() {
        Counter counter = meters.find("postern_mail_proxy_logins_total").tag("outcome", "too_many_failures").counter();
        return counter == null ? 0 : counter.count();
    }

    private List<JsonNode> auditEntries(String action, String objectId) {
        return get("/v1/audit?action=" + action + "&object_id=" + objectId + "&limit=500", ADMIN_KEY).json()
            .path("items")
            .valueStream()
            .toList();
    }

    @Test
    void afterTooManyFailuresAnAddressIsRefusedUncheckedAndAuditedOnceUntilItsCooldownEnds() throws Exception {
        AtomicLong nanos = new AtomicLong();
        MailLogins logins = logins(new FailedLogins(3, Duration.ofMinutes(1), Duration.ofMinutes(5), 1000, nanos::get));
        String mailbox = "budget-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        String account = connectMailbox(registerIdpApp("Failed logins"), mailbox);
        String usedBefore = newAppPassword(account);
        String neverUsed = newAppPassword(account);
        InetAddress guesser = someLoopbackAddress();
        InetAddress neighbour = someLoopbackAddress();
        assertThat(logins.authenticate("imap", mailbox, usedBefore, guesser).account().id()).isEqualTo(account);

        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> logins.authenticate("imap", mailbox, someAppPassword(), guesser))
                .hasMessage("Invalid user name or password.");
        }
        double readsBefore = loginReads();
        double refusedBefore = refusedUnchecked();
        for (String password : List.of(someAppPassword(), "pst_" + "b".repeat(43), "hunter2", neverUsed)) {
            assertThatThrownBy(() -> logins.authenticate("smtp", mailbox, password, guesser))
                .isInstanceOfSatisfying(MailLogins.LoginFailure.class, refused -> {
                    // Not a credentials failure: IMAP answers NO [UNAVAILABLE], SMTP 454 4.7.0, with this text.
                    assertThat(refused.credentials()).isFalse();
                    assertThat(refused.reason()).isEqualTo("too_many_failures");
                })
                .hasMessage(MailLogins.TOO_MANY_FAILURES);
        }
        assertThat(loginReads()).as("store reads of refused logins").isEqualTo(readsBefore);
        assertThat(refusedUnchecked() - refusedBefore).isEqualTo(4);

        assertThat(logins.authenticate("imap", mailbox, usedBefore, guesser).account().id())
            .as("a password that logged in before is still checked").isEqualTo(account);
        assertThatThrownBy(() -> logins.authenticate("imap", mailbox, someAppPassword(), neighbour))
            .as("another address").hasMessage("Invalid user name or password.");
        assertThat(loginReads()).as("another address's login is checked").isGreaterThan(readsBefore);
        assertThat(logins.authenticate("imap", mailbox, neverUsed, neighbour).account().id()).isEqualTo(account);

        String address = guesser.getHostAddress();
        assertThat(auditEntries("mail_proxy.login", mailbox)).filteredOn(entry -> entry.path("outcome").asString()
            .equals("failure")).hasSize(4).allSatisfy(entry -> assertThat(entry.toString()).doesNotContain("ppw_", "pst_"));
        assertThat(auditEntries("mail_proxy.login_limit", address)).singleElement().satisfies(entry -> {
            assertThat(entry.path("actor").asString()).isEqualTo("anonymous");
            assertThat(entry.path("outcome").asString()).isEqualTo("denied");
            assertThat(entry.path("details").path("failed_logins").asString()).isEqualTo("3");
            assertThat(entry.path("details").path("refused_for_seconds").asString()).isEqualTo("300");
        });

        nanos.addAndGet(Duration.ofMinutes(5).toNanos());
        assertThat(logins.authenticate("imap", mailbox, neverUsed, guesser).account().id())
            .as("after the cooldown").isEqualTo(account);
        assertThatThrownBy(() -> logins.authenticate("imap", mailbox, someAppPassword(), guesser))
            .as("counting starts again").hasMessage("Invalid user name or password.");
    }

    /**
     * A wrong app password for a connected mailbox reads the store for the app password it names;
     * an unknown or revoked mailbox must cost the same read, or the answer's timing (a Vault round
     * trip) tells which mailboxes are connected.
     */
    @Test
    void anUnknownMailboxCostsTheSameAppPasswordCheckAsAConnectedOne() throws Exception {
        MailLogins logins = logins(new FailedLogins(1000, Duration.ofMinutes(1), Duration.ofMinutes(5), 1000,
                Ticker.systemTicker()));
        String connected = "timing-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        String account = connectMailbox(registerIdpApp("Login timing"), connected);
        String revoked = "timing-revoked-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
        String revokedAccount = connectMailbox(registerIdpApp("Login timing, revoked"), revoked);
        assertThat(call("DELETE", "/v1/accounts/" + revokedAccount, ADMIN_KEY, null).status()).isEqualTo(200);
        InetAddress from = someLoopbackAddress();
        logins.authenticate("imap", connected, newAppPassword(account), from);

        for (String mailbox : List.of(connected, "nobody-" + UUID.randomUUID() + "@example.com", revoked)) {
            double before = appPasswordReads();
            assertThatThrownBy(() -> logins.authenticate("imap", mailbox, someAppPassword(), from))
                .hasMessage("Invalid user name or password.");
            assertThat(appPasswordReads() - before).as("app password reads for %s", mailbox).isEqualTo(1);
        }

        // For the eye only (a shared machine's wall clock asserts nothing): the median of 50 of each.
        for (String mailbox : List.of(connected, "nobody-" + UUID.randomUUID() + "@example.com")) {
            long[] nanos = new long[50];
            for (int i = 0; i < nanos.length; i++) {
                long start = System.nanoTime();
                assertThatThrownBy(() -> logins.authenticate("imap", mailbox, someAppPassword(), from));
                nanos[i] = System.nanoTime() - start;
            }
            Arrays.sort(nanos);
            System.out.printf("[login timing] wrong app password, %s mailbox: median %.3f ms%n",
                    mailbox.equals(connected) ? "connected" : "unknown", nanos[nanos.length / 2] / 1e6);
        }
    }

    @Test
    void aRefusedLoginWithAHugeUserNameIsAuditedWithABoundedName() {
        MailLogins logins = logins(new FailedLogins(10, Duration.ofMinutes(1), Duration.ofMinutes(5), 1000, Ticker.systemTicker()));
        String marker = "probe-" + UUID.randomUUID();
        String user = marker + "x".repeat(8_000) + "@example.com";

        for (String password : List.of("ppw_" + "a".repeat(43), "pst_" + "b".repeat(43), "hunter2")) {
            assertThatThrownBy(() -> logins.authenticate("imap", user, password, InetAddress.getLoopbackAddress()))
                .isInstanceOf(MailLogins.LoginFailure.class)
                .hasMessage("Invalid user name or password.");
        }

        List<JsonNode> entries = new ArrayList<>();
        get("/v1/audit?action=mail_proxy.login&outcome=failure&limit=500", ADMIN_KEY).json()
            .path("items")
            .forEach(entry -> {
                if (entry.path("object_id").asString().startsWith(marker)) {
                    entries.add(entry);
                }
            });
        assertThat(entries).hasSize(3).allSatisfy(entry -> {
            assertThat(entry.path("object_id").asString()).hasSizeLessThanOrEqualTo(MailLogins.MAX_USER_LENGTH + 1);
            assertThat(entry.path("details").path("mailbox").asString()).hasSizeLessThanOrEqualTo(MailLogins.MAX_USER_LENGTH + 1);
        });
    }
}
