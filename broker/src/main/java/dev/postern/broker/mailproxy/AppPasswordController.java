package dev.postern.broker.mailproxy;

import java.time.Instant;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.access.Actors;
import dev.postern.broker.web.PlainText;

/** App passwords of a mailbox, for the mail proxy: {@code /v1/accounts/{account_id}/app-passwords} (admin). */
@RestController
@RequestMapping("/v1/accounts/{accountId}/app-passwords")
class AppPasswordController {

    private final AppPasswordService appPasswords;

    AppPasswordController(AppPasswordService appPasswords) {
        this.appPasswords = appPasswords;
    }

    record CreateRequest(@Nullable @Size(max = 100) @Pattern(regexp = PlainText.NO_CONTROL_CHARACTERS, message = PlainText.NO_CONTROL_CHARACTERS_MESSAGE) String name, @Nullable Instant expiresAt) {
    }

    /** An app password as listed: never its secret. */
    record AppPasswordView(String id, String accountId, @Nullable String name, Instant createdAt,
            @Nullable Instant expiresAt) {

        static AppPasswordView of(AppPassword password) {
            return new AppPasswordView(password.id(), password.accountId(), password.name(), password.createdAt(),
                    password.expiresAt());
        }
    }

    /** A new app password: the only answer that holds {@code password}. */
    record CreatedView(String id, String accountId, @Nullable String name, Instant createdAt, @Nullable Instant expiresAt,
            String password) {

        @Override
        public String toString() {
            return "CreatedView[id=" + id + ", password=(redacted)]";
        }
    }

    record ListView(List<AppPasswordView> items) {
    }

    @PostMapping
    ResponseEntity<CreatedView> create(@PathVariable String accountId, @Valid @RequestBody(required = false) @Nullable CreateRequest body,
            HttpServletRequest request) {
        AppPasswordService.Created created = appPasswords.create(Actors.of(request), accountId,
                body == null ? null : body.name(), body == null ? null : body.expiresAt());
        AppPassword made = created.appPassword();
        return ResponseEntity.status(HttpStatus.CREATED)
            .body(new CreatedView(made.id(), made.accountId(), made.name(), made.createdAt(), made.expiresAt(),
                    created.password()));
    }

    @GetMapping
    ListView list(@PathVariable String accountId) {
        return new ListView(appPasswords.list(accountId).stream().map(AppPasswordView::of).toList());
    }

    @DeleteMapping("/{appPasswordId}")
    ResponseEntity<Void> revoke(@PathVariable String accountId, @PathVariable String appPasswordId,
            HttpServletRequest request) {
        appPasswords.revoke(Actors.of(request), accountId, appPasswordId);
        return ResponseEntity.noContent().build();
    }
}
