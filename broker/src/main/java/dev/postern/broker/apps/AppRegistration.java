package dev.postern.broker.apps;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.providers.ProviderKind;

/**
 * An OAuth app registration: which provider, which client, which scopes, and its credentials.
 *
 * @param id its id
 * @param name a human name
 * @param provider the identity provider
 * @param tenant the Microsoft tenant (id or domain), else {@code null}
 * @param clientId the client (application) id at the provider
 * @param scopes the scopes mailbox tokens are asked for
 * @param authorizeEndpoint the authorize endpoint of a generic provider
 * @param tokenEndpoint the token endpoint of a generic provider
 * @param userinfoEndpoint the userinfo endpoint of a generic provider, to learn the mailbox address
 * @param createdAt when it was registered
 * @param updatedAt when it last changed
 * @param credentials its credentials, oldest first
 * @param allowedTenants the Entra directory ids whose mailboxes may connect (lower case GUIDs); required
 *        when {@code tenant} is {@code organizations} or {@code common}, empty for other providers
 * @param imapEndpoint the IMAP server the mail proxy logs in to ({@code imaps://host:port} or
 *        {@code imap://host:port} for STARTTLS); {@code null}: the provider's
 * @param smtpEndpoint the SMTP submission server the mail proxy logs in to ({@code smtps://host:port}
 *        or {@code smtp://host:port} for STARTTLS); {@code null}: the provider's
 */
public record AppRegistration(String id, String name, ProviderKind provider, @Nullable String tenant, String clientId,
        List<String> scopes, @Nullable URI authorizeEndpoint, @Nullable URI tokenEndpoint,
        @Nullable URI userinfoEndpoint, Instant createdAt, Instant updatedAt, List<Credential> credentials,
        List<String> allowedTenants, @Nullable URI imapEndpoint, @Nullable URI smtpEndpoint) {

    public AppRegistration {
        scopes = List.copyOf(scopes);
        credentials = List.copyOf(credentials);
        // Apps stored before the field existed have none.
        allowedTenants = allowedTenants == null ? List.of() : List.copyOf(allowedTenants);
    }

    /** Whether the tenant is a multi-tenant authority ({@code organizations}, {@code common}) that any directory signs in at. */
    public boolean multiTenant() {
        return "organizations".equalsIgnoreCase(tenant) || "common".equalsIgnoreCase(tenant);
    }

    /** The IMAP server of this app's mailboxes: its own, else its provider's; {@code null} when neither names one. */
    public @Nullable URI imapServer() {
        return imapEndpoint != null ? imapEndpoint : provider.defaultImapEndpoint();
    }

    /** The SMTP submission server of this app's mailboxes: its own, else its provider's; {@code null} when neither names one. */
    public @Nullable URI smtpServer() {
        return smtpEndpoint != null ? smtpEndpoint : provider.defaultSmtpEndpoint();
    }

    /** The credential in use, if one was promoted. */
    public Optional<Credential> activeCredential() {
        return credentials.stream().filter(c -> c.state() == Credential.CredentialState.ACTIVE).findFirst();
    }

    /** The credential {@code credentialId}, if the app has it. */
    public Optional<Credential> credential(String credentialId) {
        return credentials.stream().filter(c -> c.id().equals(credentialId)).findFirst();
    }

    AppRegistration withCredentials(List<Credential> newCredentials, Instant now) {
        return new AppRegistration(id, name, provider, tenant, clientId, scopes, authorizeEndpoint, tokenEndpoint,
                userinfoEndpoint, createdAt, now, newCredentials, allowedTenants, imapEndpoint, smtpEndpoint);
    }
}
