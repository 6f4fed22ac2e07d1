package dev.postern.broker.accounts;

import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;

import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.ApiException;
import dev.postern.broker.access.Actors;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.web.Paging;

/** Connected mailboxes: {@code /v1/accounts}. */
@RestController
@RequestMapping("/v1/accounts")
class AccountController {

    private final AccountService accounts;

    AccountController(AccountService accounts) {
        this.accounts = accounts;
    }

    /** A page of accounts in id order, filtered by app, status and mailbox prefix (see docs/api.md for the cost). */
    @GetMapping
    Paging.Page<Account> list(@Parameter(description = Paging.LIMIT_DESCRIPTION, schema = @Schema(type = "integer", minimum = "1", maximum = "500", defaultValue = "100")) @RequestParam(required = false) @Nullable Integer limit,
            @Parameter(description = Paging.CURSOR_DESCRIPTION) @RequestParam(required = false) @Nullable String cursor,
            @Parameter(description = "Only this app's mailboxes.") @RequestParam(name = "app_id", required = false) @Nullable String appId,
            @Parameter(description = "active, reauth_required or revoked.") @RequestParam(required = false) @Nullable String status,
            @Parameter(description = "A prefix of the lower-case mailbox address.") @RequestParam(required = false) @Nullable String mailbox) {
        int size = Paging.limit(limit);
        String after = Paging.position("accounts", cursor, SecretPath::isValidId);
        StorePage<Account> page = accounts.page(after, size, appId, status(status), mailbox);
        return new Paging.Page<>(page.items(), Paging.cursor("accounts", page.lastKey()));
    }

    private static Account.@Nullable Status status(@Nullable String status) {
        if (status == null) {
            return null;
        }
        try {
            return Account.Status.valueOf(status.toUpperCase(Locale.ROOT));
        }
        catch (IllegalArgumentException ex) {
            throw ApiException.invalidField("status", "must be active, reauth_required or revoked");
        }
    }

    @GetMapping("/{accountId}")
    Account get(@PathVariable String accountId) {
        return accounts.get(accountId);
    }

    @DeleteMapping("/{accountId}")
    Account revoke(@PathVariable String accountId, HttpServletRequest request) {
        return accounts.revoke(Actors.of(request), accountId);
    }
}
