package dev.postern.broker.mailproxy;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.accounts.AccountService;

/**
 * The mail proxy's open sessions of a mailbox: {@code GET /v1/accounts/{account_id}/mail-sessions}
 * (admin, monitor). Served also when the proxy is off, then with nothing open.
 */
@RestController
class MailSessionController {

    private final AccountService accounts;

    private final ObjectProvider<MailProxyServer> proxy;

    MailSessionController(AccountService accounts, ObjectProvider<MailProxyServer> proxy) {
        this.accounts = accounts;
        this.proxy = proxy;
    }

    record MailSessionsView(String accountId,
            @Schema(description = "Whether the IMAP and SMTP proxy runs (postern.mail-proxy.enabled)") boolean mailProxyEnabled,
            @Schema(description = "Logged-in IMAP and SMTP sessions the proxy relays for this mailbox now") int openSessions,
            @Schema(description = "postern.mail-proxy.max-sessions-per-mailbox; null when the proxy is off") @Nullable Integer maxSessions) {
    }

    @GetMapping("/v1/accounts/{accountId}/mail-sessions")
    MailSessionsView get(@PathVariable String accountId) {
        // 404 for an unknown account, as the account's other routes.
        accounts.get(accountId);
        MailProxyServer server = proxy.getIfAvailable();
        if (server == null) {
            return new MailSessionsView(accountId, false, 0, null);
        }
        return new MailSessionsView(accountId, true, server.sessions().count(accountId), server.sessions().maxPerMailbox());
    }
}
