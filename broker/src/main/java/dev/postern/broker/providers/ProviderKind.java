package dev.postern.broker.providers;

import java.util.List;

/** The identity providers Postern speaks to, with the scopes a mail app asks for by default. */
public enum ProviderKind {

    /** Microsoft Entra ID (Microsoft 365, Outlook), through msal4j. */
    MICROSOFT(List.of("https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send",
            "offline_access", "openid", "email", "profile")),

    /** Google (Gmail). */
    GOOGLE(List.of("https://mail.google.com/", "openid", "email")),

    /** Any OAuth2 provider with an authorize and a token endpoint. */
    GENERIC(List.of("openid", "email", "offline_access"));

    private final List<String> defaultScopes;

    ProviderKind(List<String> defaultScopes) {
        this.defaultScopes = defaultScopes;
    }

    /** The scopes an app of this provider asks for when none are given. */
    public List<String> defaultScopes() {
        return defaultScopes;
    }
}
