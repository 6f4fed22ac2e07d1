package dev.postern.broker.apps;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.access.Actors;
import dev.postern.broker.web.PlainText;

/** Credentials of an app and their rotation: {@code /v1/apps/{app_id}/credentials}. */
@RestController
@RequestMapping("/v1/apps/{appId}/credentials")
class CredentialController {

    private final AppService apps;

    CredentialController(AppService apps) {
        this.apps = apps;
    }

    /** Kinds of credential in a create request. */
    enum RequestedType {
        CLIENT_SECRET, CERTIFICATE
    }

    record CreateCredentialRequest(@NotNull RequestedType type, @Nullable @Size(max = 1024) String value,
            @Nullable Instant expiresAt, @Nullable Integer validityDays,
            CertificateGenerator.@Nullable KeyAlgorithm keyAlgorithm, @Nullable @Size(max = 200) @Pattern(regexp = PlainText.NO_CONTROL_CHARACTERS, message = PlainText.NO_CONTROL_CHARACTERS_MESSAGE) String description) {

        @Override
        public String toString() {
            return "CreateCredentialRequest[type=" + type + ", value=(redacted)]";
        }
    }

    record PromoteRequest(@Nullable Boolean force, @Nullable @Size(max = 500) @Pattern(regexp = PlainText.NO_CONTROL_CHARACTERS, message = PlainText.NO_CONTROL_CHARACTERS_MESSAGE) String reason) {
    }

    /** A credential as the API shows it: never its secret or private key. */
    record CredentialView(String id, String type, String state, @Nullable String description, Instant createdAt,
            Instant expiresAt, Credential.@Nullable Verification verification, @Nullable Instant promotedAt,
            @Nullable Instant retiredAt, Credential.@Nullable CertificateInfo certificate) {

        static CredentialView of(Credential c) {
            return new CredentialView(c.id(), c.type().name().toLowerCase(Locale.ROOT),
                    c.state().name().toLowerCase(Locale.ROOT), c.description(), c.createdAt(), c.expiresAt(),
                    c.verification(), c.promotedAt(), c.retiredAt(), c.certificate());
        }
    }

    record CreatedCredential(String appId, CredentialView credential, List<String> warnings) {
    }

    @PostMapping
    @ResponseStatus(HttpStatus.CREATED)
    CreatedCredential create(@PathVariable String appId, @Valid @RequestBody CreateCredentialRequest body,
            HttpServletRequest request) {
        AppService.CredentialResult result = switch (body.type()) {
            case CLIENT_SECRET -> apps.addClientSecret(Actors.of(request), appId, body.value(), body.expiresAt(),
                    body.description());
            case CERTIFICATE -> apps.generateCertificate(Actors.of(request), appId, body.validityDays(),
                    body.keyAlgorithm(), body.description());
        };
        return new CreatedCredential(appId, CredentialView.of(result.credential()), result.warnings());
    }

    @PostMapping("/{credentialId}/verify")
    CredentialView verify(@PathVariable String appId, @PathVariable String credentialId, HttpServletRequest request) {
        return CredentialView.of(apps.verify(Actors.of(request), appId, credentialId));
    }

    @PostMapping("/{credentialId}/promote")
    AppController.AppView promote(@PathVariable String appId, @PathVariable String credentialId,
            @Valid @RequestBody(required = false) @Nullable PromoteRequest body, HttpServletRequest request) {
        boolean force = body != null && Boolean.TRUE.equals(body.force());
        return AppController.AppView.of(apps.promote(Actors.of(request), appId, credentialId, force,
                body == null ? null : body.reason()));
    }

    @DeleteMapping("/{credentialId}")
    AppController.AppView delete(@PathVariable String appId, @PathVariable String credentialId,
            HttpServletRequest request) {
        return AppController.AppView.of(apps.deleteCredential(Actors.of(request), appId, credentialId));
    }
}
