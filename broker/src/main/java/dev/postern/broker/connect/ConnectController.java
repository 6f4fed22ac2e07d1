package dev.postern.broker.connect;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Email;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Size;

import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseCookie;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.HtmlUtils;

import dev.postern.broker.access.Actors;
import dev.postern.broker.access.FailedAuthentications;
import dev.postern.broker.accounts.Account;

/** Connect links ({@code /v1/apps/{app_id}/connect-links}) and the owner's browser flow. */
@RestController
class ConnectController {

    /** The cookie that binds a sign-in to the browser that started it. */
    static final String BINDING_COOKIE = "postern_connect";

    private final ConnectService connect;

    private final FailedAuthentications failures;

    ConnectController(ConnectService connect, FailedAuthentications failures) {
        this.failures = failures;
        this.connect = connect;
    }

    record CreateLinkRequest(@Nullable @Email @Size(max = 320) String loginHint,
            @Nullable @Min(300) @Max(2_592_000) Integer expiresInSeconds) {
    }

    /**
     * A link as made: {@code id} is the short hash the audit trail names it by; {@code url} is the
     * capability itself, shown this once.
     */
    record LinkView(String id, String appId, URI url, Instant expiresAt, @Nullable String loginHint) {
    }

    @PostMapping("/v1/apps/{appId}/connect-links")
    @ResponseStatus(HttpStatus.CREATED)
    LinkView create(@PathVariable String appId, @Valid @RequestBody(required = false) @Nullable CreateLinkRequest body,
            HttpServletRequest request) {
        Duration lifetime = Duration.ofSeconds(body == null || body.expiresInSeconds() == null ? Duration.ofDays(7).toSeconds()
                : body.expiresInSeconds());
        ConnectService.IssuedLink issued = connect.createLink(Actors.of(request), appId,
                body == null ? null : body.loginHint(), lifetime);
        ConnectLink link = issued.link();
        return new LinkView(link.ref(), link.appId(), issued.url(), link.expiresAt(), link.loginHint());
    }

    /** {@code linkId} is the link secret: the name stays as published in the OpenAPI document. */
    @GetMapping("/connect/{linkId}")
    ResponseEntity<String> start(@PathVariable("linkId") String linkSecret, HttpServletRequest request) {
        if (failures.addressOverLimit(request.getRemoteAddr())) {
            return tooManyFromThisAddress();
        }
        try {
            ConnectService.Start start = connect.start(linkSecret);
            // Behind a TLS ingress the request itself looks like plain http: the public URL decides.
            boolean secure = connect.httpsOnly() || request.isSecure();
            ResponseCookie binding = ResponseCookie.from(BINDING_COOKIE, start.browserBinding())
                .httpOnly(true)
                .secure(secure)
                // None lets the provider's cross-site form_post carry it back; browsers allow None only with Secure.
                .sameSite(secure ? "None" : "Lax")
                .path("/oauth2/callback")
                .maxAge(ConnectService.ATTEMPT_LIFETIME)
                .build();
            return ResponseEntity.status(HttpStatus.FOUND)
                .location(start.redirect())
                .header(HttpHeaders.SET_COOKIE, binding.toString())
                .header(HttpHeaders.CACHE_CONTROL, "no-store")
                .build();
        }
        catch (ConnectException ex) {
            return refused(request, ex, "Cannot connect this mailbox");
        }
    }

    @RequestMapping(path = "/oauth2/callback", method = { RequestMethod.GET, RequestMethod.POST })
    ResponseEntity<String> callback(@RequestParam(required = false) String state,
            @RequestParam(required = false) String code, @RequestParam(required = false) String error,
            @RequestParam(name = "error_description", required = false) String errorDescription,
            HttpServletRequest request) {
        if (failures.addressOverLimit(request.getRemoteAddr())) {
            return tooManyFromThisAddress();
        }
        String binding = bindingCookie(request);
        try {
            Account account = connect.complete(state, code, error, errorDescription, binding,
                    "POST".equals(request.getMethod()));
            return page(HttpStatus.OK, "Mailbox connected",
                    "Connected as " + account.mailbox() + ". Postern can now give your mail program access tokens; "
                            + "you can close this page.");
        }
        catch (ConnectException ex) {
            return refused(request, ex, "Mailbox not connected");
        }
    }

    /** The owner's page for a refusal; a link or state that names nothing counts against its address. */
    private ResponseEntity<String> refused(HttpServletRequest request, ConnectException ex, String title) {
        if (ex instanceof UnknownLinkException) {
            failures.recordUnknownCapability(request.getRemoteAddr());
        }
        return page(HttpStatus.BAD_REQUEST, title, ex.getMessage());
    }

    /**
     * Past the failures an address may have in a minute (links and states that name nothing, wrong API
     * keys): refused before the link is looked up, so guessing costs no store read.
     */
    private static ResponseEntity<String> tooManyFromThisAddress() {
        ResponseEntity<String> page = page(HttpStatus.TOO_MANY_REQUESTS, "Too many attempts",
                "Too many unknown links or failed sign-ins came from your network in the last minute. "
                        + "Wait a minute, then open your connect link again.");
        return ResponseEntity.status(page.getStatusCode()).headers(page.getHeaders())
            .header(HttpHeaders.RETRY_AFTER, String.valueOf(FailedAuthentications.WINDOW.toSeconds()))
            .body(page.getBody());
    }

    /**
     * The binding cookie as sent, not URL-decoded as {@code @CookieValue} would: our value is
     * base64url and never escaped, and decoding a hostile one ("%&#") failed with a 500.
     */
    private static @Nullable String bindingCookie(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie cookie : cookies) {
            if (BINDING_COOKIE.equals(cookie.getName())) {
                return cookie.getValue();
            }
        }
        return null;
    }

    private static ResponseEntity<String> page(HttpStatus status, String title, String message) {
        String html = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>%1$s · Postern</title>
                <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
                </head><body><main><h1>%1$s</h1><p id="message">%2$s</p></main></body></html>
                """.formatted(HtmlUtils.htmlEscape(title), HtmlUtils.htmlEscape(message));
        return ResponseEntity.status(status)
            .contentType(MediaType.TEXT_HTML)
            .header(HttpHeaders.CACHE_CONTROL, "no-store")
            .header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
            .body(html);
    }
}
