package dev.postern.broker.access;

import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.core.Authentication;
import org.springframework.stereotype.Component;

import dev.postern.broker.store.StoreUnavailableException;

/** Checks an API key against the stored API clients (unknown, revoked and expired keys fail alike). */
@Component
class ApiKeyAuthenticationProvider implements AuthenticationProvider {

    private final ApiClientService clients;

    ApiKeyAuthenticationProvider(ApiClientService clients) {
        this.clients = clients;
    }

    @Override
    public Authentication authenticate(Authentication authentication) {
        String key = String.valueOf(authentication.getCredentials()).strip();
        try {
            return clients.authenticate(key)
                .map(ApiKeyAuthentication::of)
                .orElseThrow(() -> new BadCredentialsException("The API key is unknown, revoked or expired."));
        }
        catch (StoreUnavailableException ex) {
            throw new StoreUnavailableAuthenticationException(ex);
        }
    }

    @Override
    public boolean supports(Class<?> authentication) {
        return ApiKeyAuthentication.class.isAssignableFrom(authentication);
    }

    /** The key could not be checked because the store is unavailable: a 503, not a failed attempt. */
    static final class StoreUnavailableAuthenticationException extends AuthenticationServiceException {

        StoreUnavailableAuthenticationException(StoreUnavailableException cause) {
            super("The secret store cannot be used right now", cause);
        }
    }
}
