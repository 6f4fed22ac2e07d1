package dev.postern.broker.accounts;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * An access token as held in memory: a token made of base64url segments joined by dots (a JWT,
 * as Microsoft's are) kept as the bytes the segments encode, a quarter smaller than the text;
 * any other token as it came. {@link #value()} gives back exactly the text it was made from.
 *
 * <p>Why: the token is most of what a cached mailbox costs (1.5–2.5 KB for Microsoft's; 1.5 KB
 * of the 2.4 KB per cached token before it was packed, docs/performance.md, "What a cached token
 * holds"). Encoding it again on each use takes about 0.6 µs for a 1,700-character JWT, against the
 * tens of microseconds a request takes.
 */
public final class PackedToken {

    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    /** Segments longer than this (decoded) are not packed: each length is kept in two bytes. */
    private static final int MAX_SEGMENT = 0xFFFF;

    /** Each segment's decoded length in two bytes, then its bytes; or null when {@link #text} is kept. */
    private final byte @Nullable [] segments;

    private final @Nullable String text;

    private PackedToken(byte @Nullable [] segments, @Nullable String text) {
        this.segments = segments;
        this.text = text;
    }

    /** {@code token} packed when each of its dot-separated parts is canonical base64url, else as it is. */
    public static PackedToken of(String token) {
        byte[] packed = pack(token);
        return packed == null ? new PackedToken(null, token) : new PackedToken(packed, null);
    }

    /** The token's text, as given to {@link #of}. */
    public String value() {
        if (segments == null) {
            return Objects.requireNonNull(text);
        }
        StringBuilder token = new StringBuilder(segments.length * 4 / 3 + 8);
        int at = 0;
        while (at < segments.length) {
            int length = ((segments[at] & 0xFF) << 8) | (segments[at + 1] & 0xFF);
            at += 2;
            if (token.length() > 0) {
                token.append('.');
            }
            ByteBuffer encoded = ENCODER.encode(ByteBuffer.wrap(segments, at, length));
            token.append(new String(encoded.array(), 0, encoded.limit(), StandardCharsets.ISO_8859_1));
            at += length;
        }
        return token.toString();
    }

    /** Whether the token is held as bytes rather than text. */
    boolean packed() {
        return segments != null;
    }

    private static byte @Nullable [] pack(String token) {
        if (token.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length() * 3 / 4 + 8);
        int start = 0;
        while (true) {
            int dot = token.indexOf('.', start);
            String part = dot < 0 ? token.substring(start) : token.substring(start, dot);
            byte[] decoded = decodeCanonical(part);
            if (decoded == null || decoded.length > MAX_SEGMENT) {
                return null;
            }
            out.write(decoded.length >> 8);
            out.write(decoded.length);
            out.writeBytes(decoded);
            if (dot < 0) {
                return out.toByteArray();
            }
            start = dot + 1;
        }
    }

    /** The bytes {@code part} encodes, when encoding them again gives {@code part} exactly; else null. */
    private static byte @Nullable [] decodeCanonical(String part) {
        if (part.isEmpty()) {
            return null;
        }
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            boolean alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '_';
            if (!alphabet) {
                return null;
            }
        }
        if (part.length() % 4 == 1) {
            return null;
        }
        byte[] decoded = DECODER.decode(part);
        // Unused low bits in the last character decode to the same bytes as zeros: such a part would not come back.
        return ENCODER.encodeToString(decoded).equals(part) ? decoded : null;
    }

    @Override
    public String toString() {
        return "PackedToken[(redacted)]";
    }
}
