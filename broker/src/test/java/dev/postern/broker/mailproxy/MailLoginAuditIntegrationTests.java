package dev.postern.broker.mailproxy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import dev.postern.broker.access.ApiClientService;
import dev.postern.broker.accounts.AccountService;
import dev.postern.broker.audit.AuditLog;
import dev.postern.broker.testing.ApiIntegrationTest;
import dev.postern.broker.tokens.TokenService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What an anonymous mail client makes Postern store: a refused login is audited with the user name
 * it gave, and that name is bounded like a mailbox address, so that nobody without credentials can
 * write kilobytes per attempt into the audit trail (8 KiB command lines, 500 events per chunk).
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

    @Test
    void aRefusedLoginWithAHugeUserNameIsAuditedWithABoundedName() {
        MailLogins logins = new MailLogins(clients, accounts, appPasswords, tokens, audit, meters, Duration.ofMinutes(5));
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
