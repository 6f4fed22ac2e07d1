package dev.postern.broker.apps;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import io.swagger.v3.oas.annotations.Parameter;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.access.Actors;
import dev.postern.broker.providers.ProviderKind;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.web.Paging;
import dev.postern.broker.web.PlainText;

/** App registrations: {@code /v1/apps}. Secrets are never part of an answer. */
@RestController
@RequestMapping("/v1/apps")
class AppController {

    private final AppService apps;

    AppController(AppService apps) {
        this.apps = apps;
    }

    record AppRequest(@Nullable @Size(max = 100) @Pattern(regexp = PlainText.NO_CONTROL_CHARACTERS, message = PlainText.NO_CONTROL_CHARACTERS_MESSAGE) String name, @Nullable ProviderKind provider,
            @Nullable @Size(max = 255) String tenant, @Nullable @Size(max = 255) String clientId,
            @Nullable @Size(max = 50) List<@NotBlank @Size(max = 255) String> scopes, @Nullable URI authorizeEndpoint,
            @Nullable URI tokenEndpoint, @Nullable URI userinfoEndpoint,
            @Nullable @Size(max = 100) List<@Size(max = 64) String> allowedTenants,
            @Schema(description = "The IMAP server the mail proxy logs in to: imaps://host:port (implicit TLS) or "
                    + "imap://host:port (STARTTLS). Default: the provider's (Microsoft imaps://outlook.office365.com:993, "
                    + "Google imaps://imap.gmail.com:993); a generic app needs it for the mail proxy",
                    example = "imaps://mail.example.com:993") @Nullable URI imapEndpoint,
            @Schema(description = "The SMTP submission server the mail proxy logs in to: smtps://host:port (implicit TLS) "
                    + "or smtp://host:port (STARTTLS). Default: the provider's (Microsoft smtp://smtp.office365.com:587, "
                    + "Google smtps://smtp.gmail.com:465); a generic app needs it for the mail proxy",
                    example = "smtps://mail.example.com:465") @Nullable URI smtpEndpoint,
            @Schema(description = "On PATCH only: the app's active client secret again, required to change the tenant, "
                    + "client id or an endpoint of an app that holds credentials (else 409 credential-bound)",
                    accessMode = Schema.AccessMode.WRITE_ONLY) @Nullable @Size(max = 1024) String clientSecret) {

        AppService.AppFields fields() {
            return new AppService.AppFields(name, provider, tenant, clientId, scopes, authorizeEndpoint, tokenEndpoint,
                    userinfoEndpoint, allowedTenants, imapEndpoint, smtpEndpoint, clientSecret);
        }

        @Override
        public String toString() {
            return "AppRequest[name=" + name + ", provider=" + provider + "]";
        }
    }

    /** An app as the API shows it; the mail servers are the app's own or its provider's defaults. */
    record AppView(String id, String name, String provider, @Nullable String tenant, String clientId,
            List<String> scopes, @Nullable URI authorizeEndpoint, @Nullable URI tokenEndpoint,
            @Nullable URI userinfoEndpoint, List<String> allowedTenants,
            @Schema(description = "The IMAP server the mail proxy logs in to (the app's or its provider's default); "
                    + "null: none, the mail proxy cannot serve this app's mailboxes") @Nullable URI imapEndpoint,
            @Schema(description = "The SMTP submission server the mail proxy logs in to (the app's or its provider's "
                    + "default); null: none") @Nullable URI smtpEndpoint, Instant createdAt, Instant updatedAt,
            @Nullable String activeCredentialId, List<CredentialController.CredentialView> credentials) {

        static AppView of(AppRegistration app) {
            return new AppView(app.id(), app.name(), app.provider().name().toLowerCase(Locale.ROOT), app.tenant(),
                    app.clientId(), app.scopes(), app.authorizeEndpoint(), app.tokenEndpoint(), app.userinfoEndpoint(),
                    app.allowedTenants(), app.imapServer(), app.smtpServer(), app.createdAt(), app.updatedAt(), app.activeCredential().map(Credential::id).orElse(null),
                    app.credentials().stream().map(CredentialController.CredentialView::of).toList());
        }
    }

    @PostMapping
    @ResponseStatus(HttpStatus.CREATED)
    AppView create(@Valid @RequestBody AppRequest body, HttpServletRequest request) {
        return AppView.of(apps.create(Actors.of(request), body.fields()));
    }

    /** A page of apps in id order: {@code limit} reads, the ids from the key directory (no LIST). */
    @GetMapping
    Paging.Page<AppView> list(@Parameter(description = Paging.LIMIT_DESCRIPTION, schema = @Schema(type = "integer", minimum = "1", maximum = "500", defaultValue = "100")) @RequestParam(required = false) @Nullable Integer limit,
            @Parameter(description = Paging.CURSOR_DESCRIPTION) @RequestParam(required = false) @Nullable String cursor) {
        int size = Paging.limit(limit);
        StorePage<AppRegistration> page = apps.page(Paging.position("apps", cursor, SecretPath::isValidId), size);
        return new Paging.Page<>(page.items().stream().map(AppView::of).toList(), Paging.cursor("apps", page.lastKey()));
    }

    @GetMapping("/{appId}")
    AppView get(@PathVariable String appId) {
        return AppView.of(apps.get(appId));
    }

    @PatchMapping("/{appId}")
    AppView update(@PathVariable String appId, @Valid @RequestBody AppRequest body, HttpServletRequest request) {
        return AppView.of(apps.update(Actors.of(request), appId, body.fields()));
    }

    @DeleteMapping("/{appId}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(@PathVariable String appId, HttpServletRequest request) {
        apps.delete(Actors.of(request), appId);
    }
}
