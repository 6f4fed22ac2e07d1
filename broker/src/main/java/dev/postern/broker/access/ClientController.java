package dev.postern.broker.access;

import java.time.Instant;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;

import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

import dev.postern.broker.Role;
import dev.postern.broker.store.SecretPath;
import dev.postern.broker.store.StorePage;
import dev.postern.broker.web.Paging;
import dev.postern.broker.web.PlainText;

/** API clients: {@code /v1/clients}. The key is in the create response and nowhere else, ever. */
@RestController
@RequestMapping("/v1/clients")
class ClientController {

    private static final String ID = "[a-z0-9][a-z0-9_-]{0,63}";

    private final ApiClientService clients;

    ClientController(ApiClientService clients) {
        this.clients = clients;
    }

    record CreateClientRequest(@NotBlank @Size(max = 100) @Pattern(regexp = PlainText.NO_CONTROL_CHARACTERS, message = PlainText.NO_CONTROL_CHARACTERS_MESSAGE) String name, @NotNull Role role,
            @Nullable List<@NotNull @Pattern(regexp = ID) String> allowedApps,
            @Nullable List<@NotNull @Pattern(regexp = ID) String> allowedAccounts, @Nullable Instant expiresAt) {
    }

    /** A client as the API shows it; {@code key} only in the create response. */
    record ClientView(String id, String name, String role, List<String> allowedApps, List<String> allowedAccounts,
            String keyPrefix, Instant createdAt, @Nullable Instant expiresAt, @Nullable Instant revokedAt,
            @Nullable String key) {

        static ClientView of(ApiClient client, @Nullable String key) {
            return new ClientView(client.id(), client.name(), client.role().name().toLowerCase(java.util.Locale.ROOT),
                    client.allowedApps(), client.allowedAccounts(), client.keyPrefix(), client.createdAt(),
                    client.expiresAt(), client.revokedAt(), key);
        }

        @Override
        public String toString() {
            return "ClientView[id=" + id + ", role=" + role + "]";
        }
    }

    @PostMapping
    @ResponseStatus(HttpStatus.CREATED)
    ClientView create(@Valid @RequestBody CreateClientRequest body, HttpServletRequest request) {
        ApiClientService.CreatedClient created = clients.create(Actors.of(request), body.name().strip(), body.role(),
                body.allowedApps() == null ? List.of() : body.allowedApps(),
                body.allowedAccounts() == null ? List.of() : body.allowedAccounts(), body.expiresAt());
        return ClientView.of(created.client(), created.key());
    }

    /** A page of clients in id order: {@code limit} reads, the ids from the key directory (no LIST). */
    @GetMapping
    Paging.Page<ClientView> list(@Parameter(description = Paging.LIMIT_DESCRIPTION, schema = @Schema(type = "integer", minimum = "1", maximum = "500", defaultValue = "100")) @RequestParam(required = false) @Nullable Integer limit,
            @Parameter(description = Paging.CURSOR_DESCRIPTION) @RequestParam(required = false) @Nullable String cursor) {
        int size = Paging.limit(limit);
        StorePage<ApiClient> page = clients.page(Paging.position("clients", cursor, SecretPath::isValidId), size);
        return new Paging.Page<>(page.items().stream().map(client -> ClientView.of(client, null)).toList(),
                Paging.cursor("clients", page.lastKey()));
    }

    @DeleteMapping("/{clientId}")
    ClientView revoke(@PathVariable String clientId, HttpServletRequest request) {
        return ClientView.of(clients.revoke(Actors.of(request), clientId), null);
    }
}
