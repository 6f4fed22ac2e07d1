package dev.postern.broker.access;

import java.io.Serializable;
import java.util.List;
import java.util.Set;

import dev.postern.broker.Role;

/**
 * The authenticated caller of a request.
 *
 * @param clientId its API client id
 * @param role its role
 * @param allowedApps apps whose mailboxes it may get tokens for
 * @param allowedAccounts mailboxes it may get tokens for
 */
public record ApiPrincipal(String clientId, Role role, Set<String> allowedApps, Set<String> allowedAccounts)
        implements Serializable {

    public ApiPrincipal {
        allowedApps = Set.copyOf(allowedApps);
        allowedAccounts = Set.copyOf(allowedAccounts);
    }

    static ApiPrincipal of(ApiClient client) {
        return new ApiPrincipal(client.id(), client.role(), Set.copyOf(client.allowedApps()),
                Set.copyOf(client.allowedAccounts()));
    }

    /** Whether this caller may get tokens for the mailbox {@code accountId} of app {@code appId}. */
    public boolean mayUseAccount(String accountId, String appId) {
        return role == Role.CLIENT && (allowedAccounts.contains(accountId) || allowedApps.contains(appId));
    }

    /** The roles a caller may hold to be let through, for messages. */
    static String describe(List<Role> roles) {
        return String.join(" or ", roles.stream().map(r -> r.name().toLowerCase(java.util.Locale.ROOT)).toList());
    }
}
