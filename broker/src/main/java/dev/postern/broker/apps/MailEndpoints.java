package dev.postern.broker.apps;

import java.net.URI;
import java.util.Locale;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.ApiException;

/**
 * An app's IMAP and SMTP servers as given in the API, checked and written in one form:
 * {@code scheme://host:port}, the scheme saying how TLS starts ({@code imaps}, {@code smtps}:
 * implicit; {@code imap}, {@code smtp}: STARTTLS, never plaintext), the port filled in from the
 * scheme when missing.
 */
final class MailEndpoints {

    private static final Map<String, Integer> IMAP = Map.of("imaps", 993, "imap", 143);

    private static final Map<String, Integer> SMTP = Map.of("smtps", 465, "smtp", 587);

    private MailEndpoints() {
    }

    static @Nullable URI imap(@Nullable URI given) {
        return normalised(given, IMAP, "imap_endpoint", "imaps://host:993 or imap://host:143 (STARTTLS)");
    }

    static @Nullable URI smtp(@Nullable URI given) {
        return normalised(given, SMTP, "smtp_endpoint", "smtps://host:465 or smtp://host:587 (STARTTLS)");
    }

    private static @Nullable URI normalised(@Nullable URI given, Map<String, Integer> schemes, String field, String form) {
        if (given == null) {
            return null;
        }
        String scheme = given.getScheme() == null ? "" : given.getScheme().toLowerCase(Locale.ROOT);
        Integer defaultPort = schemes.get(scheme);
        boolean bare = (given.getRawPath() == null || given.getRawPath().isEmpty() || given.getRawPath().equals("/"))
                && given.getRawQuery() == null && given.getRawFragment() == null && given.getRawUserInfo() == null;
        if (defaultPort == null || given.getHost() == null || !bare) {
            throw ApiException.invalidField(field, "must be " + form + ", without user, path or query");
        }
        int port = given.getPort() < 0 ? defaultPort : given.getPort();
        return URI.create(scheme + "://" + given.getHost().toLowerCase(Locale.ROOT) + ":" + port);
    }
}
