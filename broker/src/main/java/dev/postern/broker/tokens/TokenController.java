package dev.postern.broker.tokens;

import java.time.Duration;
import java.time.Instant;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;

import org.jspecify.annotations.Nullable;
import org.springframework.http.CacheControl;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.ApiException;
import dev.postern.broker.access.Actors;
import dev.postern.broker.access.ApiPrincipal;
import dev.postern.broker.accounts.Account;
import dev.postern.broker.accounts.AccountService;

/** Access tokens for mail clients: {@code POST /v1/accounts/{account_id}/token} and {@code POST /v1/token}. */
@RestController
class TokenController {

    private final TokenService tokens;

    private final AccountService accounts;

    private final TokenProperties properties;

    TokenController(TokenService tokens, AccountService accounts, TokenProperties properties) {
        this.tokens = tokens;
        this.accounts = accounts;
        this.properties = properties;
    }

    record TokenRequest(@Nullable @Min(0) @Max(3000) Integer minTtlSeconds) {
    }

    record MailboxTokenRequest(@NotBlank @Size(max = 320) String mailbox, @Nullable @Min(0) @Max(3000) Integer minTtlSeconds) {
    }

    /** A token as a mail client gets it. Never logged, never cached by intermediaries. */
    record TokenResponse(String accessToken, String tokenType, Instant expiresAt, long expiresIn, String scope,
            String username, String xoauth2) {

        static TokenResponse of(IssuedToken token, Instant now) {
            return new TokenResponse(token.accessToken(), "Bearer", token.expiresAt(),
                    Math.max(0, Duration.between(now, token.expiresAt()).toSeconds()), token.scope(), token.username(),
                    token.xoauth2());
        }

        @Override
        public String toString() {
            return "TokenResponse[username=" + username + ", expiresAt=" + expiresAt + ", tokens=(redacted)]";
        }
    }

    @PostMapping("/v1/accounts/{accountId}/token")
    ResponseEntity<TokenResponse> forAccount(@PathVariable String accountId,
            @Valid @RequestBody(required = false) @Nullable TokenRequest body, HttpServletRequest request) {
        return answer(tokens.issue(Actors.principal(request), accountId,
                minTtl(body == null ? null : body.minTtlSeconds())));
    }

    @PostMapping("/v1/token")
    ResponseEntity<TokenResponse> forMailbox(@Valid @RequestBody MailboxTokenRequest body, HttpServletRequest request) {
        ApiPrincipal caller = Actors.principal(request);
        Account account = accounts.findByMailbox(body.mailbox(), a -> caller.mayUseAccount(a.id(), a.appId()))
            .orElseThrow(() -> ApiException.notFound("A mailbox " + body.mailbox() + " this client may use"));
        return answer(tokens.issue(caller, account.id(), minTtl(body.minTtlSeconds())));
    }

    private Duration minTtl(@Nullable Integer seconds) {
        return seconds == null ? properties.defaultMinTtl() : Duration.ofSeconds(seconds);
    }

    private static ResponseEntity<TokenResponse> answer(IssuedToken token) {
        return ResponseEntity.ok()
            .cacheControl(CacheControl.noStore())
            .header("Pragma", "no-cache")
            .body(TokenResponse.of(token, Instant.now()));
    }
}
