package dev.postern.broker.access;

import java.util.List;
import java.util.Locale;

import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

import dev.postern.broker.Role;

/**
 * Spring Security's view of an API client: before the check it holds the presented key, after it
 * the {@link ApiPrincipal} and one authority {@code ROLE_<role>}. The key is dropped once checked.
 */
final class ApiKeyAuthentication extends AbstractAuthenticationToken {

    private final @Nullable ApiPrincipal principal;

    private @Nullable String key;

    private ApiKeyAuthentication(@Nullable String key, @Nullable ApiPrincipal principal) {
        super(principal == null ? List.of() : List.of(authorityOf(principal.role())));
        this.key = key;
        this.principal = principal;
        setAuthenticated(principal != null);
    }

    /** A key as presented, not checked yet. */
    static ApiKeyAuthentication unchecked(String key) {
        return new ApiKeyAuthentication(key, null);
    }

    /** A caller whose key (or admin session) was checked. */
    static ApiKeyAuthentication of(ApiPrincipal principal) {
        return new ApiKeyAuthentication(null, principal);
    }

    /** The authority that stands for {@code role}, as {@code hasRole(...)} expects it. */
    static SimpleGrantedAuthority authorityOf(Role role) {
        return new SimpleGrantedAuthority("ROLE_" + role.name());
    }

    static String roleName(Role role) {
        return role.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public @Nullable String getCredentials() {
        return key;
    }

    @Override
    public @Nullable ApiPrincipal getPrincipal() {
        return principal;
    }

    @Override
    public String getName() {
        return principal == null ? "(unchecked api key)" : principal.clientId();
    }

    @Override
    public void eraseCredentials() {
        key = null;
    }

    @Override
    public String toString() {
        return "ApiKeyAuthentication[client=" + getName() + ", key=(redacted)]";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ApiKeyAuthentication that && super.equals(that);
    }

    @Override
    public int hashCode() {
        return super.hashCode();
    }
}
