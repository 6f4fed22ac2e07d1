package dev.postern.broker.providers;

import java.net.URI;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The identity providers Postern speaks to, with the scopes a mail app asks for by default and the
 * mail servers its mailboxes are reached at ({@code imaps://} and {@code smtps://} are implicit TLS,
 * {@code smtp://} is STARTTLS).
 */
public enum ProviderKind {

    /** Microsoft Entra ID (Microsoft 365, Outlook), through msal4j. */
    MICROSOFT(List.of("https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send",
            "offline_access", "openid", "email", "profile"), "imaps://outlook.office365.com:993",
            "smtp://smtp.office365.com:587"),

    /** Google (Gmail). */
    GOOGLE(List.of("https://mail.google.com/", "openid", "email"), "imaps://imap.gmail.com:993",
            "smtps://smtp.gmail.com:465"),

    /** Any OAuth2 provider with an authorize and a token endpoint. */
    GENERIC(List.of("openid", "email", "offline_access"), null, null);

    private final List<String> defaultScopes;

    private final @Nullable URI imapEndpoint;

    private final @Nullable URI smtpEndpoint;

    ProviderKind(List<String> defaultScopes, @Nullable String imapEndpoint, @Nullable String smtpEndpoint) {
        this.defaultScopes = defaultScopes;
        this.imapEndpoint = imapEndpoint == null ? null : URI.create(imapEndpoint);
        this.smtpEndpoint = smtpEndpoint == null ? null : URI.create(smtpEndpoint);
    }

    /** The provider's IMAP server, or {@code null} when there is none to assume (generic). */
    public @Nullable URI defaultImapEndpoint() {
        return imapEndpoint;
    }

    /** The provider's SMTP submission server, or {@code null} when there is none to assume (generic). */
    public @Nullable URI defaultSmtpEndpoint() {
        return smtpEndpoint;
    }

    /** The scopes an app of this provider asks for when none are given. */
    public List<String> defaultScopes() {
        return defaultScopes;
    }
}
