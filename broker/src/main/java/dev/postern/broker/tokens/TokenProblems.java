package dev.postern.broker.tokens;

import java.time.Duration;
import java.util.Map;

import org.springframework.http.HttpStatus;

import dev.postern.broker.ApiException;
import dev.postern.broker.ProblemTypes;
import dev.postern.broker.accounts.Account;

/** The problems of the token path (docs/api.md lists them). */
final class TokenProblems {

    private TokenProblems() {
    }

    /** @throws ApiException 409 when {@code account} cannot get tokens: revoked, or its owner must connect it again */
    static void requireUsable(Account account) {
        switch (account.status()) {
            case REVOKED -> throw ApiException.conflict(ProblemTypes.ACCOUNT_REVOKED, "This mailbox was revoked; connect it again.");
            case REAUTH_REQUIRED -> throw ApiException.conflict(ProblemTypes.REAUTH_REQUIRED,
                    "The mailbox owner must connect this mailbox again: the provider no longer accepts its refresh token.");
            case ACTIVE -> {
            }
        }
    }

    static ApiException providerUnavailable(Duration wait) {
        long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
        return unavailable(ProblemTypes.PROVIDER_UNAVAILABLE,
                "The identity provider is unavailable or limiting requests; try again in " + seconds + " s.", seconds);
    }

    static ApiException unavailable(String type, String detail, long retryAfterSeconds) {
        return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, type, "Try again later", detail, Map.of(),
                Map.of("Retry-After", String.valueOf(retryAfterSeconds)));
    }
}
