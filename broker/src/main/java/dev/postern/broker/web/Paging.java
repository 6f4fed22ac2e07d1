package dev.postern.broker.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import dev.postern.broker.ApiException;

/**
 * The paging contract of every list ({@code /v1/accounts}, {@code /v1/apps}, {@code /v1/clients},
 * {@code /v1/audit}, {@code /v1/expiry}): {@code limit} 1 to {@value #MAX_LIMIT}, default
 * {@value #DEFAULT_LIMIT}; an opaque {@code cursor} that names the position after which the next
 * page starts. A cursor is the list's name and that position with a check value, base64url: it is
 * not a secret and grants nothing (the caller could list from the start anyway), the check only
 * makes an edited or foreign cursor a 400 instead of a silently different page.
 */
public final class Paging {

    /** The page size when the request names none. */
    public static final int DEFAULT_LIMIT = 100;

    /** The largest page. */
    public static final int MAX_LIMIT = 500;

    /** The OpenAPI description of {@code limit}. */
    public static final String LIMIT_DESCRIPTION = "Page size, 1 to 500 (default 100); outside: 400 invalid-request.";

    /** The OpenAPI description of {@code cursor}. */
    public static final String CURSOR_DESCRIPTION = "The next_cursor of the previous page, unchanged; absent for the "
            + "first page. An edited or foreign cursor: 400 invalid-request.";

    private static final int CHECK_BYTES = 6;

    private Paging() {
    }

    /**
     * A page as every list answers it.
     *
     * @param items this page's items, in the list's stable order
     * @param nextCursor what to pass as {@code cursor} for the next page, {@code null} on the last
     * @param <T> the item type
     */
    public record Page<T>(List<T> items, @Nullable String nextCursor) {
    }

    /** The requested page size, {@link #DEFAULT_LIMIT} when absent; outside 1..{@value #MAX_LIMIT} a 400. */
    public static int limit(@Nullable Integer requested) {
        if (requested == null) {
            return DEFAULT_LIMIT;
        }
        if (requested < 1 || requested > MAX_LIMIT) {
            throw ApiException.invalidField("limit", "must be between 1 and " + MAX_LIMIT);
        }
        return requested;
    }

    /** The cursor for continuing {@code list} after {@code position}, or {@code null} at the end. */
    public static @Nullable String cursor(String list, @Nullable String position) {
        if (position == null) {
            return null;
        }
        byte[] payload = (list + ":" + position).getBytes(StandardCharsets.UTF_8);
        byte[] token = Arrays.copyOf(payload, payload.length + CHECK_BYTES);
        System.arraycopy(check(payload), 0, token, payload.length, CHECK_BYTES);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(token);
    }

    /**
     * The position a {@code cursor} of {@code list} names, {@code null} without a cursor.
     *
     * @param valid what a position of this list looks like
     * @throws ApiException a 400 for a cursor that was edited, belongs to another list or names no valid position
     */
    public static @Nullable String position(String list, @Nullable String cursor, Predicate<String> valid) {
        if (cursor == null) {
            return null;
        }
        ApiException invalid = ApiException.invalidField("cursor",
                "is not a cursor of this list; pass the next_cursor of the previous page unchanged");
        byte[] token;
        try {
            token = Base64.getUrlDecoder().decode(cursor);
        }
        catch (IllegalArgumentException ex) {
            throw invalid;
        }
        if (token.length <= CHECK_BYTES || cursor.length() > 400) {
            throw invalid;
        }
        byte[] payload = Arrays.copyOf(token, token.length - CHECK_BYTES);
        byte[] check = Arrays.copyOfRange(token, token.length - CHECK_BYTES, token.length);
        if (!MessageDigest.isEqual(check, Arrays.copyOf(check(payload), CHECK_BYTES))) {
            throw invalid;
        }
        String text = new String(payload, StandardCharsets.UTF_8);
        String prefix = list + ":";
        if (!text.startsWith(prefix) || !valid.test(text.substring(prefix.length()))) {
            throw invalid;
        }
        return text.substring(prefix.length());
    }

    private static byte[] check(byte[] payload) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(payload);
        }
        catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every JDK", ex);
        }
    }
}
