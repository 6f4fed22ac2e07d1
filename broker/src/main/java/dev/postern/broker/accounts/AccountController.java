package dev.postern.broker.accounts;

import java.util.List;

import jakarta.servlet.http.HttpServletRequest;

import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.access.Actors;

/** Connected mailboxes: {@code /v1/accounts}. */
@RestController
@RequestMapping("/v1/accounts")
class AccountController {

    private final AccountService accounts;

    AccountController(AccountService accounts) {
        this.accounts = accounts;
    }

    @GetMapping
    List<Account> list() {
        return accounts.list();
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
